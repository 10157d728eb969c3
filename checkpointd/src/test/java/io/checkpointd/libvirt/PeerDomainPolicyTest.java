package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.testing.PrometheusTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A backup starts a peer's domain definition only within what its own operator allows. */
class PeerDomainPolicyTest {
    private static final PeerDomainPolicy POLICY = new PeerDomainPolicy(Path.of("/run/checkpointd"));

    /** The example definition, as the e2e scenario fills it in. */
    private static String example() throws IOException {
        return Files.readString(PrometheusTools.repoFile("conf/libvirt/protected-domain.xml"))
                .replace("@NAME@", "web1").replace("@MEMORY_MIB@", "128")
                .replace("@KERNEL@", "/var/lib/libvirt/boot/web1/vmlinuz")
                .replace("@INITRD@", "/var/lib/libvirt/boot/web1/initramfs.cpio.gz")
                .replace("@GUEST_IP@", "10.0.0.2/24").replace("@MAC@", "52:54:00:00:00:01")
                .replace("@NET_PORT@", "40000").replace("@NBD_SOCKET@", "/run/checkpointd/web1/disk.sock")
                .replace("@NBD_EXPORT@", "vda").replace("@CONSOLE_LOG@", "/var/lib/libvirt/boot/web1/console.log");
    }

    private static String problem(String xml) {
        return POLICY.problem(DomainXml.parse(xml, "test"));
    }

    private static String withDevice(String device) throws IOException {
        return example().replace("<memballoon model='none'/>", "<memballoon model='none'/>" + device);
    }

    @Test
    void theExampleDefinitionIsAccepted() throws IOException {
        assertThat(problem(example())).isNull();
        // As libvirt 9 returns it, with the devices it adds.
        assertThat(problem(withDevice("<emulator>/usr/bin/qemu-system-x86_64</emulator><input type='mouse' "
                + "bus='ps2'/><input type='keyboard' bus='ps2'/><audio id='1' type='none'/>"
                + "<controller type='pci' index='0' model='pci-root'/>"))).isNull();
        assertThat(problem(withDevice("<audio id='1' type='pulseaudio'/>"))).contains("<audio type='pulseaudio'>");
    }

    @Test
    void aQemuCommandLineFromThePeerIsRefused() throws IOException {
        String xml = example().replace("<domain type='qemu'>",
                "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
                .replace("</devices>", "</devices><qemu:commandline><qemu:arg value='-plugin'/></qemu:commandline>");
        assertThat(problem(xml)).isEqualTo("the primary's domain XML carries <qemu:commandline>: a backup never runs "
                + "a QEMU command line its operator did not write");
    }

    @Test
    void hostPassthroughIsRefusedByName() throws IOException {
        assertThat(problem(withDevice("<hostdev mode='subsystem' type='pci'><source><address bus='0x01'/>"
                + "</source></hostdev>"))).contains("has a <hostdev> device");
        assertThat(problem(withDevice("<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>")))
                .contains("has a <filesystem> device");
    }

    @Test
    void aDiskOnAHostBlockDeviceIsRefused() throws IOException {
        assertThat(problem(withDevice("<disk type='block' device='disk'><source dev='/dev/sda'/>"
                + "<target dev='vdb' bus='virtio'/></disk>")))
                .contains("has a <disk type='block'>");
        assertThat(problem(withDevice("<disk type='network' device='disk'><source protocol='nbd' name='vda'>"
                + "<host transport='unix' socket='/dev/sda'/></source><target dev='vdb' bus='virtio'/></disk>")))
                .contains("names the host file /dev/sda");
        assertThat(problem(withDevice("<disk type='file' device='disk'><source file='/run/checkpointd/x.img'/>"
                + "<target dev='vdb' bus='virtio'/></disk>")))
                .contains("has a <disk type='file'>");
    }

    @Test
    void filesOutsideTheDaemonsDirectoriesAreRefused() throws IOException {
        assertThat(problem(example().replace("/var/lib/libvirt/boot/web1/vmlinuz", "/etc/shadow")))
                .contains("names the host file /etc/shadow (<kernel>)");
        assertThat(problem(example().replace("/var/lib/libvirt/boot/web1/console.log",
                "/var/lib/libvirt/boot/../../../root/.bashrc"))).contains("names the host file");
        assertThat(problem(example().replace("<devices>", "<devices><emulator>/tmp/qemu</emulator>")))
                .contains("/tmp/qemu (<emulator>)");
        assertThat(problem(example().replace("<interface type='client'>", "<interface type='bridge'>")))
                .contains("<interface type='bridge'>");
    }
}
