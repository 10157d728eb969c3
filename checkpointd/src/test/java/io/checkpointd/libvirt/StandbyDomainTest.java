package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.config.LibvirtConfig;
import io.checkpointd.testing.HostCommand;
import io.checkpointd.testing.LibvirtHost;
import io.checkpointd.testing.PrometheusTools;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup's warm standby against a real libvirt, without booting anything: a standby QEMU waits for
 * its state and runs no guest code. (Resuming one is LibvirtFailoverTest's part.)
 */
class StandbyDomainTest {
    private final String tag = Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
    private final String name = "cpt-standby-" + tag;
    private final String tap = "cpts" + tag;

    @TempDir
    Path dir;

    @TempDir
    static Path hostDir;

    private static LibvirtHost host;
    private MultiThreadIoEventLoopGroup group;
    private LibvirtConfig config;

    @BeforeAll
    static void libvirt() throws Exception {
        if (!"root".equals(System.getProperty("user.name")) || !Files.exists(Path.of("/dev/net/tun"))) {
            System.err.println("SKIPPED StandbyDomainTest: needs root (libvirt, a tap device)");
            Assumptions.abort("needs root");
        }
        Path repo = PrometheusTools.repoFile("scripts/libvirt-up").getParent().getParent();
        host = LibvirtHost.up(repo, hostDir.resolve("libvirt-up.log"));
    }

    @AfterAll
    static void stopLibvirt() {
        if (host != null) {
            host.close();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        HostCommand.run("ip", "tuntap", "add", "dev", tap, "mode", "tap");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        config = LibvirtConfig.defaults().withTap(tap).withRestoredName(name + "-r");
    }

    @AfterEach
    void tearDown() throws Exception {
        HostCommand.virsh("destroy", name + "-r");
        HostCommand.probe("ip", "link", "del", tap);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private String description() {
        String xml = """
                <domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory>
                  <memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
                  <os><type arch='x86_64' machine='pc'>hvm</type></os>
                  <devices>
                    <interface type='client'><mac address='52:54:00:77:00:42'/>
                      <source address='127.0.0.1' port='1'/><model type='virtio'/></interface>
                    <controller type='usb' model='none'/><memballoon model='none'/>
                  </devices>
                </domain>
                """.formatted(name);
        return new LibvirtDescription(xml, "52:54:00:77:00:42", "", 32L << 20).toJson();
    }

    @Test
    void aStandbyWaitsForItsStateAndIsGoneWhenClosed() throws Exception {
        try (StandbyDomain standby = StandbyDomain.create(config, group.next(), new SimpleMeterRegistry(), name,
                description(), null)) {
            assertThat(standby.standsFor(description(), null)).as("alive and waiting").isTrue();
            assertThat(standby.standsFor(description().replace("52:54:00:77:00:42", "52:54:00:77:00:43"), null))
                    .as("another description needs another standby").isFalse();
            assertThat(HostCommand.virsh("domstate", name + "-r")).contains("paused");
        }
        assertThat(HostCommand.virsh("domstate", name + "-r")).contains("failed to get domain");
        assertThat(config.runDir().resolve(name + "-r")).doesNotExist();
    }

    @Test
    void aStandbyLeftByAKilledBackupIsReplaced() throws Exception {
        // What a killed backup daemon leaves: its domain, still waiting for an incoming migration.
        Path xml = dir.resolve("orphan.xml");
        Files.writeString(xml, """
                <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
                  <name>%s-r</name><memory unit='MiB'>16</memory>
                  <os><type arch='x86_64' machine='pc'>hvm</type></os>
                  <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>
                  <qemu:commandline><qemu:arg value='-incoming'/><qemu:arg value='defer'/></qemu:commandline>
                </domain>
                """.formatted(name));
        assertThat(HostCommand.virsh("create", "--paused", xml.toString())).contains("created");
        String orphanId = HostCommand.virsh("domid", name + "-r").strip();
        try (StandbyDomain standby = StandbyDomain.create(config, group.next(), new SimpleMeterRegistry(), name,
                description(), null)) {
            assertThat(standby.standsFor(description(), null)).isTrue();
            assertThat(HostCommand.virsh("domid", name + "-r").strip()).as("a new domain, not the orphan").isNotEqualTo(orphanId);
        }
    }

    @Test
    void aDomainOfThatNameRunningAGuestIsNeverTouched() throws Exception {
        Path xml = dir.resolve("other.xml");
        Files.writeString(xml, """
                <domain type='qemu'><name>%s-r</name><memory unit='MiB'>16</memory>
                  <os><type arch='x86_64' machine='pc'>hvm</type></os>
                  <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>
                </domain>
                """.formatted(name));
        assertThat(HostCommand.virsh("create", xml.toString())).contains("created");
        assertThatThrownBy(() -> StandbyDomain.create(config, group.next(), new SimpleMeterRegistry(), name,
                description(), null))
                .hasMessageContaining("a domain named '" + name + "-r' already exists here (running)")
                .hasMessageContaining("libvirt.restored-name");
        assertThat(HostCommand.virsh("domstate", name + "-r")).contains("running");
    }
}
