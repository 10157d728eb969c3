package io.checkpointd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.primary.PrimaryDaemon;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.tls.CertificateAuthority;
import io.checkpointd.replication.tls.TlsMaterial;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.FrameEncoder;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.replication.wire.HelloAck;
import io.checkpointd.sim.SimDriver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup over mutual TLS against peers that should not get in: each is refused, nothing is created for
 * it (no replica directory, no failover armed), and a real primary allowed for the domain is served after.
 */
class TrustTest {
    private static final String DOMAIN = "web";
    private static final GuestSpec GUEST = new GuestSpec(SimDriver.NAME, 16L << 20, 4096, 0,
            "{\"sim\":{},\"serviceHost\":\"127.0.0.1\",\"servicePort\":1}");

    @TempDir
    Path dir;
    private Path backupDir;
    private BackupDaemon backup;
    private InetSocketAddress address;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EventLoopGroup clients = Transport.TCP.newGroup(1);

    @BeforeEach
    void startBackup() throws Exception {
        CertificateAuthority.create("lab CA").writeHosts(dir.resolve("tls"), List.of("primary", "backup", "intruder"));
        CertificateAuthority.create("other CA").writeHosts(dir.resolve("other-ca"), List.of("primary"));
        backupDir = dir.resolve("replicas");
        Files.createDirectories(backupDir);
        CheckpointdConfig d = CheckpointdConfig.defaults();
        CheckpointdConfig config = d
                .withReplication(d.replication().withListen(new HostPort("127.0.0.1", 0))
                        .withTls(TlsConfig.defaults().withDir(dir.resolve("tls/backup"))))
                .withBackup(d.backup().withDir(backupDir).allowing(DOMAIN, List.of("primary")));
        backup = BackupDaemon.launch(new LaunchContext().config(config).driver(new SimDriver(config, backupDir))
                .registry(registry));
        address = (InetSocketAddress) backup.address();
    }

    @AfterEach
    void stop() {
        backup.close();
        clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Says HELLO for {@code domain} through {@code tls} (null: plain TCP); the answer, or null if cut off. */
    private HelloAck hello(Function<Channel, SslHandler> tls, String domain) throws Exception {
        return helloWith(tls, new Hello(domain, GUEST));
    }

    private HelloAck helloWith(Function<Channel, SslHandler> tls, Hello hello) throws Exception {
        CompletableFuture<HelloAck> answer = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(clients).channel(Transport.TCP.clientChannel())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        if (tls != null) {
                            c.pipeline().addLast(tls.apply(c));
                        }
                        c.pipeline().addLast(new FrameDecoder(1 << 20, 8), new FrameEncoder(),
                                new SimpleChannelInboundHandler<Frame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
                                        if (f instanceof HelloAck ack) {
                                            answer.complete(ack);
                                        }
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        answer.complete(null);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                    }
                }).connect(address).sync().channel();
        ch.writeAndFlush(hello);
        try {
            return answer.get(20, TimeUnit.SECONDS);
        } finally {
            ch.close().sync();
        }
    }

    private Function<Channel, SslHandler> as(String folder) throws IOException {
        TlsMaterial material = TlsMaterial.load(dir.resolve(folder));
        return c -> material.clientHandler(c.alloc());
    }

    private double failures(String reason) {
        return registry.get("checkpointd.replication.tls.failures").tag("role", "backup").tag("reason", reason)
                .counter().count();
    }

    /** The backup counts a failed handshake on its own loop, maybe just after the client saw the close. */
    private void awaitFailures(String reason, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (failures(reason) < expected && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
        assertThat(failures(reason)).as("handshake failures counted as %s", reason).isEqualTo(expected);
    }

    private void assertNothingCreated() throws Exception {
        try (var entries = Files.list(backupDir)) {
            assertThat(entries.toList()).as("replica files").isEmpty();
        }
        assertThat(backup.server().slot(DOMAIN)).as("a failover armed").isNull();
    }

    /** After each intruder, the real primary, allowed for the domain, is served and commits. */
    private void assertARealPrimaryIsServed() throws Exception {
        CheckpointdConfig d = CheckpointdConfig.defaults();
        CheckpointdConfig config = d.withDomain(d.domain().withName(DOMAIN))
                .withSim(d.sim().withRamBytes(16L << 20).withHotSetBytes(4L << 20).withServicePort(0).withDiskBytes(0))
                .withReplication(d.replication().withBackup(new HostPort("127.0.0.1", address.getPort()))
                        .withTls(TlsConfig.defaults().withDir(dir.resolve("tls/primary"))));
        Files.createDirectories(dir.resolve("primary"));
        try (PrimaryDaemon primary = PrimaryDaemon.launch(new LaunchContext().config(config)
                .driver(new SimDriver(config, dir.resolve("primary"))).onHandedOver(() -> { }))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (primary.metrics().committed() < 1 || udpHeartbeatsFromThePrimary() < 3) {
                assertThat(System.nanoTime() - deadline).as("the real primary committing within 60 s, and the backup "
                        + "accepting its UDP heartbeats").isNegative();
                Thread.sleep(20);
            }
            // Both ends keyed the heartbeats from the same TLS session: none of the primary's was rejected.
            assertThat(backup.server().slot(DOMAIN).heartbeats().rejectedDatagrams()).isZero();
        }
    }

    private double udpHeartbeatsFromThePrimary() {
        var counter = registry.find(io.checkpointd.failure.PeerMonitor.RECEIVED).tag("domain", DOMAIN)
                .tag("peer", "primary").counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aPlainTcpHelloIsCutOffUnread() throws Exception {
        assertThat(hello(null, DOMAIN)).isNull();
        awaitFailures("not_tls", 1);
        assertNothingCreated();
        assertARealPrimaryIsServed();
    }

    @Test
    void aClientWithoutACertificateFailsTheHandshake() throws Exception {
        var noCert = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3")
                .endpointIdentificationAlgorithm(null).trustManager(dir.resolve("tls/backup/ca.pem").toFile()).build();
        assertThat(hello(c -> noCert.newHandler(c.alloc()), DOMAIN)).isNull();
        awaitFailures("no_certificate", 1);
        assertNothingCreated();
        assertARealPrimaryIsServed();
    }

    @Test
    void aCertificateFromAnotherCaFailsTheHandshake() throws Exception {
        assertThat(hello(as("other-ca/primary"), DOMAIN)).isNull();
        awaitFailures("unknown_ca", 1);
        assertNothingCreated();
        assertARealPrimaryIsServed();
    }

    @Test
    void aValidCertificateNotAllowedForTheDomainIsRefusedAtHello() throws Exception {
        HelloAck ack = hello(as("tls/intruder"), DOMAIN);
        assertThat(ack).isNotNull();
        assertThat(ack.rejection()).isEqualTo("a primary whose certificate names [intruder] is not allowed for "
                + "domain 'web' (backup.domains allows [primary])");
        assertThat(failures("not_allowed")).isEqualTo(1);
        assertNothingCreated();
        assertARealPrimaryIsServed();
    }

    @Test
    void aHelloClaimingATebibyteOfRamIsRefusedBeforeAnyFileIsMade() throws Exception {
        HelloAck ack = helloWith(as("tls/primary"), new Hello(DOMAIN, new GuestSpec(SimDriver.NAME, 1L << 40, 4096, 0,
                GUEST.description())));
        assertThat(ack.rejection()).contains("a guest of 1099511627776 bytes of RAM is over backup.max-ram");
        assertNothingCreated();
        assertARealPrimaryIsServed();
    }

    /** Names the backup does not host leave nothing behind: no replica, and no heartbeat socket per name. */
    @Test
    void twoHundredStrangeDomainNamesLeaveNoDescriptorBehind() throws Exception {
        Function<Channel, SslHandler> primary = as("tls/primary");
        hello(primary, "warm-up"); // the first connection loads TLS and codec classes
        long before = openDescriptors();
        for (int i = 0; i < 200; i++) {
            assertThat(hello(primary, "name" + i).accepted()).isFalse();
        }
        assertThat(openDescriptors()).as("descriptors after 200 refused names").isLessThanOrEqualTo(before + 5);
        assertNothingCreated();
    }

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /**
     * Strangers that connect and never finish a handshake (idle, or stopping mid-record) are capped while
     * they wait and cut at the handshake timeout; nothing is buffered for them beyond one TLS record, and
     * the real primary is served once they are gone.
     */
    @Test
    void idleAndHalfSentConnectionsAreCappedThenCut() throws Exception {
        long rssBeforeKb = rssKb();
        List<java.net.Socket> strangers = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                strangers.add(new java.net.Socket("127.0.0.1", address.getPort()));
            }
            for (int i = 0; i < 1000; i++) {
                java.net.Socket s = new java.net.Socket("127.0.0.1", address.getPort());
                // A TLS record header announcing 16 KiB, then only part of it.
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00, 1, 2, 3});
                strangers.add(s);
            }
            Thread.sleep(2000);
            long rssWithKb = rssKb();
            // Past the handshake timeout every stranger is cut.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (failures("timeout") + failures("too_many_pending") + failures("other") < 1500) {
                assertThat(System.nanoTime() - deadline).as("all strangers cut").isNegative();
                Thread.sleep(100);
            }
            assertThat(failures("too_many_pending")).as("connections closed on arrival, past the cap")
                    .isGreaterThanOrEqualTo(1500 - 2 * TlsPipelineLimit.MAX);
            System.out.printf("TrustTest: RSS %d kB before, %d kB with 1,500 strangers, %d kB after they were cut; "
                    + "closed on arrival %.0f, timed out %.0f, other %.0f%n", rssBeforeKb, rssWithKb, rssKb(),
                    failures("too_many_pending"), failures("timeout"), failures("other"));
            assertNothingCreated();
            assertARealPrimaryIsServed();
        } finally {
            for (java.net.Socket s : strangers) {
                s.close();
            }
        }
    }

    /** The cap, as the daemon sets it. */
    private static final class TlsPipelineLimit {
        static final int MAX = io.checkpointd.replication.tls.TlsPipeline.MAX_PENDING_HANDSHAKES;
    }

    private static long rssKb() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
    }

    @Test
    void aDomainThisBackupDoesNotHostIsRefusedAtHello() throws Exception {
        HelloAck ack = hello(as("tls/primary"), "db");
        assertThat(ack.rejection()).startsWith("this backup does not host domain 'db' (it hosts [web])")
                .contains("--allow db=primary");
        try (var entries = Files.list(backupDir)) {
            assertThat(entries.toList()).isEmpty();
        }
        assertARealPrimaryIsServed();
    }
}
