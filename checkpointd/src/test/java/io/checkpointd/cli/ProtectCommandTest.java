package io.checkpointd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.testing.HostCommand;
import io.checkpointd.testing.LibvirtHost;
import io.checkpointd.testing.PrometheusTools;
import io.checkpointd.testing.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code protect} against a real libvirt, for the ways an operator gets it wrong: each must fail before
 * anything starts, naming what to fix. (The working path is LibvirtFailoverTest.)
 */
class ProtectCommandTest {
    private static LibvirtHost host;
    private final String name = "cpt-protect-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);

    @TempDir
    static Path dir;

    /** Runs a command with a lab TLS folder, so that what is checked is the domain, not the missing TLS. */
    private static ToolRun run(String... args) {
        String[] withTls = java.util.Arrays.copyOf(args, args.length + 2);
        withTls[args.length] = "--tls-dir";
        withTls[args.length + 1] = dir.resolve("tls/primary").toString();
        return ToolRun.of(Main.commandLine(), withTls);
    }

    @BeforeAll
    static void libvirt() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("SKIPPED ProtectCommandTest: needs root to start libvirt and define domains");
            Assumptions.abort("needs root");
        }
        io.checkpointd.replication.tls.CertificateAuthority.create("test CA")
                .writeHosts(dir.resolve("tls"), java.util.List.of("primary"));
        Path repo = PrometheusTools.repoFile("scripts/libvirt-up").getParent().getParent();
        host = LibvirtHost.up(repo, dir.resolve("libvirt-up.log"));
    }

    @AfterAll
    static void stopLibvirt() {
        if (host != null) {
            host.close();
        }
    }

    @AfterEach
    void undefine() throws Exception {
        HostCommand.virsh("undefine", name);
    }

    @Test
    void anUndefinedDomainIsNamed() {
        ToolRun r = run("protect", name, "--tap", "cpx0", "--metrics-port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("no domain '" + name + "' in libvirt at qemu:///system: define it first");
    }

    @Test
    void everyProblemOfTheXmlIsListedAtOnce() throws Exception {
        define("""
                <domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>
                  <os><type arch='x86_64'>hvm</type></os>
                  <devices>
                    <disk type='file' device='disk'><source file='/nonexistent/d.raw'/><target dev='vda' bus='virtio'/></disk>
                    <interface type='ethernet'/>
                  </devices>
                </domain>
                """.formatted(name));
        ToolRun r = run("protect", name, "--tap", "cpx0", "--metrics-port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("domain '" + name + "' cannot be protected:")
                .contains("RAM is not in a shared file: add <memoryBacking>")
                .contains("the network interface is type='ethernet', not a connection to the daemon")
                .contains("disk vda is not served by disk-mirror");
        assertThat(HostCommand.virsh("domstate", name)).contains("shut off");
    }

    @Test
    void aMissingTapOrDiskImageIsNamedBeforeTheDomainStarts() throws Exception {
        define("""
                <domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>
                  <memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
                  <os><type arch='x86_64'>hvm</type></os>
                  <devices>
                    <disk type='network' device='disk'><source protocol='nbd' name='vda'>
                      <host transport='unix' socket='/run/checkpointd/%s/disk.sock'/></source>
                      <target dev='vda' bus='virtio'/></disk>
                    <interface type='client'><mac address='52:54:00:77:00:09'/>
                      <source address='127.0.0.1' port='17999'/><model type='virtio'/></interface>
                  </devices>
                </domain>
                """.formatted(name, name));
        ToolRun noDisk = run("protect", name, "--tap", "cpx0", "--metrics-port", "0");
        assertThat(noDisk.status()).isEqualTo(1);
        assertThat(noDisk.err()).contains("has an NBD disk at /run/checkpointd/" + name + "/disk.sock but "
                + "libvirt.disk-image is not set");
        ToolRun noTap = run("protect", name, "--disk-image", dir.resolve("d.raw").toString(), "--metrics-port", "0");
        assertThat(noTap.status()).isEqualTo(1);
        assertThat(noTap.err()).contains("libvirt.tap is not set");
        assertThat(HostCommand.virsh("domstate", name)).contains("shut off");
    }

    private static void define(String xml) throws Exception {
        Path file = dir.resolve("domain.xml");
        Files.writeString(file, xml);
        String out = HostCommand.virsh("define", file.toString());
        assertThat(out).contains("defined");
    }
}
