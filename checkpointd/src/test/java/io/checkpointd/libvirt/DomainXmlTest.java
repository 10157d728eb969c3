package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DomainXmlTest {
    private static final String GOOD = """
            <domain type='qemu'>
              <name>web1</name>
              <uuid>6f0c3c1e-9d4b-4d53-9a8e-0b5a1c2d3e4f</uuid>
              <memory unit='KiB'>131072</memory>
              <memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
              <devices>
                <disk type='network' device='disk'>
                  <source protocol='nbd' name='vda'><host transport='unix' socket='/run/checkpointd/web1/disk.sock'/></source>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <serial type='file'><source path='/var/log/web1.console'/><target port='0'/></serial>
                <interface type='client'>
                  <mac address='52:54:00:AB:CD:EF'/>
                  <source address='127.0.0.1' port='7501'/>
                  <model type='virtio'/>
                </interface>
              </devices>
            </domain>
            """;

    @Test
    void readsWhatTheDaemonNeeds() {
        DomainXml xml = DomainXml.parse(GOOD, "test").requireProtectable();
        assertThat(xml.name()).isEqualTo("web1");
        assertThat(xml.type()).isEqualTo("qemu");
        assertThat(xml.memoryBytes()).isEqualTo(128L << 20);
        assertThat(xml.nic()).isEqualTo(new DomainXml.Nic("52:54:00:ab:cd:ef", "127.0.0.1", 7501));
        assertThat(xml.nbdDisk()).contains(new DomainXml.NbdDisk("vda", Path.of("/run/checkpointd/web1/disk.sock")));
    }

    @Test
    void namesEveryProblemAtOnce() {
        String bad = """
                <domain type='kvm'><name>db</name><memory>1048576</memory>
                  <devices>
                    <disk type='file' device='disk'><source file='/var/lib/db.qcow2'/><target dev='vda'/></disk>
                    <interface type='network'><source network='default'/></interface>
                  </devices>
                </domain>
                """;
        assertThatThrownBy(() -> DomainXml.parse(bad, "domain 'db'").requireProtectable())
                .hasMessageContaining("domain 'db' cannot be protected")
                .hasMessageContaining("RAM is not in a shared file")
                .hasMessageContaining("type='network', not a connection to the daemon")
                .hasMessageContaining("no <mac address")
                .hasMessageContaining("disk vda is not served by disk-mirror");
    }

    @Test
    void refusesANicOffLoopbackAndTwoNics() {
        String remote = GOOD.replace("127.0.0.1", "192.0.2.7");
        assertThat(DomainXml.parse(remote, "t").problems()).singleElement().asString()
                .contains("connects to 192.0.2.7");
        String twoNics = GOOD.replace("</devices>", "<interface type='client'><mac address='52:54:00:00:00:01'/>"
                + "<source address='127.0.0.1' port='7502'/></interface></devices>");
        assertThat(DomainXml.parse(twoNics, "t").problems()).singleElement().asString()
                .contains("has 2 network interfaces");
    }

    @Test
    void restoreXmlHasTheBackupsNameNicDiskAndWaitsForIncoming() {
        String restored = DomainXml.parse(GOOD, "t").forRestore("web1-restored", 9001, Path.of("/run/b/disk.sock"),
                Path.of("/run/b/qmp.sock"));
        DomainXml xml = DomainXml.parse(restored, "restored");
        assertThat(xml.name()).isEqualTo("web1-restored");
        assertThat(restored).doesNotContain("<uuid>");
        assertThat(xml.nic().port()).isEqualTo(9001);
        assertThat(xml.nic().mac()).isEqualTo("52:54:00:ab:cd:ef");
        assertThat(xml.nbdDisk().orElseThrow().socket()).isEqualTo(Path.of("/run/b/disk.sock"));
        assertThat(restored).contains("xmlns:qemu=\"" + DomainXml.QEMU_NS + "\"")
                .containsPattern("<qemu:arg value=\"-incoming\"/>\\s*<qemu:arg value=\"defer\"/>")
                .containsPattern("<qemu:arg value=\"-qmp\"/>\\s*<qemu:arg value=\"unix:/run/b/qmp.sock,server=on,wait=off\"/>");
        assertThat(xml.problems()).isEmpty();
        assertThat(restored).as("a console file has one writer: the restored guest gets its own")
                .contains("path=\"/var/log/web1.console.web1-restored\"");
        assertThat(DomainXml.parse(GOOD, "t").forRestore("web1", 9001, null, Path.of("/run/b/qmp.sock")))
                .contains("path=\"/var/log/web1.console\"");
    }

    @Test
    void theLiveXmlAddsTheDaemonsQmpMonitorAndKeepsTheIdentity() {
        Path socket = Path.of("/run/checkpointd/web1/qmp.sock");
        String live = DomainXml.parse(GOOD, "t").withQmpSocket(socket);
        DomainXml xml = DomainXml.parse(live, "live");
        assertThat(xml.name()).isEqualTo("web1");
        assertThat(live).as("the same domain: libvirt matches name and uuid")
                .contains("<uuid>6f0c3c1e-9d4b-4d53-9a8e-0b5a1c2d3e4f</uuid>")
                .contains("xmlns:qemu=\"" + DomainXml.QEMU_NS + "\"")
                .containsPattern("<qemu:arg value=\"-qmp\"/>\\s*"
                        + "<qemu:arg value=\"unix:/run/checkpointd/web1/qmp.sock,server=on,wait=off\"/>");
        assertThat(xml.problems()).isEmpty();
        assertThat(xml.nic().port()).isEqualTo(7501);

        String withArgs = GOOD.replace("<domain type='qemu'>", "<domain type='qemu' xmlns:qemu='" + DomainXml.QEMU_NS
                + "'>").replace("</domain>", "<qemu:commandline><qemu:arg value='-no-hpet'/></qemu:commandline></domain>");
        assertThat(DomainXml.parse(withArgs, "t").withQmpSocket(socket))
                .as("the operator's own QEMU arguments stay, ours follow in the same element")
                .containsPattern("<qemu:commandline>\\s*<qemu:arg value=\"-no-hpet\"/>\\s*<qemu:arg value=\"-qmp\"/>")
                .containsOnlyOnce("<qemu:commandline>");
        assertThat(DomainXml.parse(GOOD, "t").toXml()).as("the definition is untouched").doesNotContain("-qmp");
    }

    @Test
    void theAcceleratorIsChosenOnACopy() {
        DomainXml defined = DomainXml.parse(GOOD, "t");
        DomainXml kvm = defined.withType("kvm");
        assertThat(kvm.type()).isEqualTo("kvm");
        assertThat(DomainXml.parse(kvm.withQmpSocket(Path.of("/run/q.sock")), "live").type()).isEqualTo("kvm");
        assertThat(kvm.withType("qemu").type()).isEqualTo("qemu");
        assertThat(defined.type()).as("the definition is untouched").isEqualTo("qemu");
        assertThatThrownBy(() -> defined.withType("xen")).hasMessageContaining("'xen' is neither kvm nor qemu");
    }

    @Test
    void rejectsWhatIsNotADomain() {
        assertThatThrownBy(() -> DomainXml.parse("<network/>", "f.xml")).hasMessageContaining("f.xml: not a libvirt domain");
        assertThatThrownBy(() -> DomainXml.parse("<domain>", "f.xml")).hasMessageContaining("f.xml: unreadable domain XML");
        assertThatThrownBy(() -> DomainXml.parse("<!DOCTYPE d [<!ENTITY x 'y'>]><domain/>", "f.xml"))
                .hasMessageContaining("unreadable");
    }
}
