package io.checkpointd.primary;

import io.checkpointd.backup.BackupDaemon;
import io.checkpointd.backup.BackupMetrics;
import io.checkpointd.backup.BackupServer;
import io.checkpointd.backup.FailoverController;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.DomainConfig;
import io.checkpointd.config.EpochConfig;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.tls.CertificateAuthority;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * A primary and a backup in one process over a chosen {@link Transport}: the real daemons, each launched
 * from a {@link LaunchContext} as the command line launches them, with a test driver. The test is the guest
 * and its client: {@link #request(int)} changes a key in guest RAM and sends the reply through net-buffer;
 * {@link #received} is what the client got. The test invokes the primary's epoch loop itself (one
 * checkpoint per call, with its own time); faults come from a {@link FaultInjector} in the primary's
 * pipeline. The backup runs on a fake clock, so a failover happens exactly when the test says.
 */
final class Cluster implements AutoCloseable {
    // The backup runs on the fake clock, so its dead-after costs no waiting; the primary uses the real clock,
    // and a generous dead-after keeps a briefly busy backup (commit, fsync, a loaded CI host) from being dropped.
    static final FailureDetectorConfig DETECTION = new FailureDetectorConfig(
            TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.SECONDS.toNanos(3));
    static final int PAGE = 4096;
    static final long RAM = 512L * PAGE;
    static final int KEYS = 64;
    static final String DOMAIN = "test";
    /** The guest's mirrored disk: each request appends a 32-byte record. */
    static final long DISK = 1L << 20;

    /** A reply the client received: key {@code key} held {@code value}, produced in epoch {@code epoch}. */
    record Reply(int key, long value, long epoch) {
    }

    /** What the backup started after a failover. */
    record Restored(byte[] ram, String deviceState, byte[] disk) {
        long valueOf(int key) {
            return ByteBuffer.wrap(ram).order(java.nio.ByteOrder.nativeOrder()).getLong(key * PAGE);
        }
    }

    final Transport transport;
    private final Path dir;
    private final CheckpointdConfig config;
    private final CheckpointdConfig backupConfig;
    private final EventLoopGroup heartbeatLoops = Transport.TCP.newGroup(1);
    private final EventLoopGroup primaryLoops;
    private final DefaultEventLoop egressLoop = new DefaultEventLoop();
    final AtomicLong backupNowNs = new AtomicLong(TimeUnit.SECONDS.toNanos(1));
    private EventLoopGroup backupLoops;
    private BackupDaemon backupDaemon;
    BackupServer backup;
    BackupMetrics backupMetrics;
    private SocketAddress backupAddress;
    final List<Restored> restored = new CopyOnWriteArrayList<>();
    final TestDomain domain;
    final List<Reply> received = new CopyOnWriteArrayList<>();
    private final Map<Reply, Long> ackedAtDelivery = new ConcurrentHashMap<>();
    final AtomicBoolean primaryDead = new AtomicBoolean();
    /** Set by the daemon once it lost the guest, fenced it and sent HANDOVER (instead of halting the JVM). */
    final AtomicBoolean handedOver = new AtomicBoolean();
    /** Set when the daemon fences the guest; HANDOVER must come after it. */
    final AtomicBoolean fenced = new AtomicBoolean();
    /** Completing it is the guest stopping by itself (a QEMU that exited). */
    final CompletableFuture<String> guestLost = new CompletableFuture<>();
    final AtomicReference<FaultInjector.Fault> faults = new AtomicReference<>(FaultInjector.Fault.NONE);
    private final Map<Long, byte[]> memoryAtEpoch = new ConcurrentHashMap<>();
    private final long[] values = new long[KEYS];
    private final PrimaryDaemon primary;
    final PrimaryClient client;
    final EpochLoop loop;
    private long primaryNowNs;
    /**
     * How far the primary's time moves per epoch-loop call. The loop schedules its next checkpoint an interval
     * after the real length of the pause, so a step must outlast any pause (a loaded CI host stalls threads).
     */
    private static final long STEP_NS = TimeUnit.SECONDS.toNanos(10);
    private final Path diskImage;
    private final FileChannel disk;
    private EpochWriteLog diskLog; // the primary's, handed to the driver at attach
    private HeldEgress egress; // the guest's held output, made by the driver at attach
    private final Map<Long, byte[]> diskAtEpoch = new ConcurrentHashMap<>();
    private long diskRecords;
    private final Map<Long, String> deviceStateAtEpoch = new ConcurrentHashMap<>();
    private int captures; // TestDomain numbers its device states by capture

    /** Full checkpoints are taken live, as the daemon does by default. */
    Cluster(Transport transport, Path dir) throws IOException {
        this.transport = transport;
        this.dir = dir;
        this.primaryLoops = transport.newGroup(2);
        CheckpointdConfig defaults = CheckpointdConfig.defaults();
        // Over TCP the replication connection is mutual TLS, as the daemon runs by default; in-VM channels
        // never leave the process and run plain.
        Path tls = dir.resolve("tls");
        if (transport.isSocket()) {
            try {
                CertificateAuthority.create("test CA").writeHosts(tls, List.of("primary", "backup"));
            } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
            }
        }
        config = defaults.withDomain(new DomainConfig(DOMAIN, TestDriver.NAME))
                .withEpoch(new EpochConfig(1, 4, EpochConfig.LIVE))
                .withReplication(defaults.replication().withBatchPages(8).withMaxFrameBytes(4 << 20)
                        .withConnectTimeoutNs(TimeUnit.SECONDS.toNanos(5))
                        .withTls(transport.isSocket() ? TlsConfig.defaults().withDir(tls.resolve("primary"))
                                : TlsConfig.off()))
                .withBackup(defaults.backup().allowing(DOMAIN, List.of("primary")))
                .withFailureDetector(DETECTION);
        backupConfig = transport.isSocket() ? config.withReplication(config.replication()
                .withTls(config.replication().tls().withDir(tls.resolve("backup")))) : config;
        startBackup(dir.resolve("backup"), transport == Transport.TCP ? new InetSocketAddress("127.0.0.1", 0)
                : new LocalAddress("checkpointd-" + UUID.randomUUID()));
        domain = new TestDomain(dir.resolve("primary.ram"), RAM, PAGE);
        diskImage = dir.resolve("primary.disk");
        disk = FileChannel.open(diskImage, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        disk.write(ByteBuffer.wrap(new byte[1]), DISK - 1);
        primary = PrimaryDaemon.launch(new LaunchContext().config(config).driver(new TestDriver())
                .transport(transport).backupAddress(backupAddress).ioLoops(primaryLoops)
                .replicationPipeline(p -> p.addLast(new FaultInjector(faults::get)))
                .invokeEpochs(true).onHandedOver(() -> handedOver.set(true)));
        client = primary.client();
        loop = primary.epochLoop();
    }

    /** The guest's driver: this test's domain, disk and client on the primary; a recorder on the backup. */
    private final class TestDriver implements Driver {
        static final String NAME = "test";

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public boolean mirrorsDisk() {
            return true;
        }

        @Override
        public GuestAttachment attach(Attach attach) {
            diskLog = attach.diskLog();
            egress = new HeldEgress(egressLoop, attach.outputBuffer(), Cluster.this::deliver,
                    attach.clock()::nanoTime, true);
            GuestSpec spec = new GuestSpec(NAME, RAM, PAGE, DISK, "");
            return new GuestAttachment() {
                @Override public ProtectedDomain domain() { return domain; }
                @Override public DirtyTracker tracker() { return domain.dirtyTracker(); }
                @Override public HeldEgress egress() { return egress; }
                @Override public GuestSpec guest() { return spec; }
                @Override public Path diskImage() { return diskImage; }
                @Override public String summary() { return "test guest"; }
                @Override public CompletableFuture<String> lost() { return guestLost; }
                @Override public void fence() { fenced.set(true); }
                @Override public void close() { egress.close(); }
            };
        }

        @Override
        public GuestRestorer restorer(EventLoop guestNetwork, MeterRegistry registry) {
            return (domainName, guest, replica, deviceState, image, ramInPlace) -> {
                restored.add(new Restored(Files.readAllBytes(replica), new String(deviceState, StandardCharsets.US_ASCII),
                        image == null ? null : Files.readAllBytes(image)));
                return () -> { };
            };
        }
    }

    void startBackup(Path backupDir, SocketAddress address) {
        backupLoops = transport.newGroup(1);
        backupDaemon = BackupDaemon.launch(new LaunchContext()
                .config(backupConfig.withBackup(backupConfig.backup().withDir(backupDir))).driver(new TestDriver())
                .clock(backupNowNs::get).transport(transport).listenAddress(address)
                .ioLoops(backupLoops).heartbeatLoops(heartbeatLoops));
        backup = backupDaemon.server();
        backupMetrics = backupDaemon.metrics();
        backupAddress = backupDaemon.address();
    }

    /** The backup's host dies: its loops and sockets go away at once. */
    void crashBackup() {
        backupLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        backupDaemon.close();
    }

    /** A new backup, empty, at the same address (the primary keeps reconnecting there). */
    void replaceBackup() {
        startBackup(dir.resolve("backup-" + UUID.randomUUID()), backupAddress);
    }

    /** The guest sets {@code key} to its next value and answers; the answer is held until committed. */
    void request(int key) {
        long value = ++values[key];
        long epoch = loop.nextEpoch();
        domain.set(key, value);
        logToDisk(key, value);
        ByteBuf reply = Unpooled.buffer(20).writeInt(key).writeLong(value).writeLong(epoch);
        egress.transmit(reply);
    }

    /** The guest appends a record to its disk: written through to the image and into the write log. */
    private void logToDisk(int key, long value) {
        ByteBuf record = Unpooled.buffer(32).writeLong(++diskRecords).writeInt(key).writeLong(value).writeZero(12);
        long offset = (diskRecords * 32) % DISK;
        try {
            disk.write(record.nioBuffer(), offset);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        diskLog.onWrite(offset, record);
        record.release();
    }

    /** The newest epoch the backup had acknowledged when {@code reply} reached the client. */
    long ackedWhenDelivered(Reply reply) {
        return ackedAtDelivery.get(reply);
    }

    /** The device state checkpoint {@code epoch} captured. */
    String deviceStateAt(long epoch) {
        return deviceStateAtEpoch.get(epoch);
    }

    /** The guest's disk image as it was when checkpoint {@code epoch} was taken. */
    byte[] diskAt(long epoch) {
        return diskAtEpoch.get(epoch);
    }

    private byte[] diskNow() {
        try {
            return Files.readAllBytes(diskImage);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    void requests(int count) {
        for (int i = 0; i < count; i++) {
            request(i % KEYS);
        }
    }

    private void deliver(ByteBuf frame) {
        try {
            if (!primaryDead.get()) { // a dead host sends nothing more
                Reply reply = new Reply(frame.getInt(0), frame.getLong(4), frame.getLong(12));
                ackedAtDelivery.put(reply, primary.progress().lastAckedEpoch());
                received.add(reply);
            }
        } finally {
            frame.release();
        }
    }

    /**
     * Takes the next checkpoint; returns its epoch. A full one (after connecting) runs its whole live
     * pre-copy here, the guest writing nothing meanwhile.
     */
    long checkpoint() throws InterruptedException {
        long epoch = loop.nextEpoch();
        memoryAtEpoch.put(epoch, domain.snapshot());
        diskAtEpoch.put(epoch, diskNow());
        primaryNowNs += STEP_NS;
        if (loop.doWork(primaryNowNs) != 1) {
            throw new AssertionError("no checkpoint was taken");
        }
        if (loop.preCopying()) {
            // A full checkpoint: its epoch is assigned now (the disk log may have taken a number first).
            long full = loop.nextEpoch() - 1;
            memoryAtEpoch.put(full, memoryAtEpoch.get(epoch));
            diskAtEpoch.put(full, diskAtEpoch.get(epoch));
            epoch = full;
        }
        deviceStateAtEpoch.put(epoch, "device-state-" + (++captures));
        while (loop.preCopying()) {
            primaryNowNs += STEP_NS;
            if (loop.doWork(primaryNowNs) == 0) {
                Thread.sleep(1);
            }
        }
        return epoch;
    }

    /**
     * Takes the pending full checkpoint as a live pre-copy, the guest (this thread) writing pages between the
     * rounds; returns its epoch. The memory recorded for it is the memory at its final pause.
     */
    long fullSyncLive(java.util.SplittableRandom random) throws InterruptedException {
        primaryNowNs += STEP_NS;
        if (loop.doWork(primaryNowNs) != 1 || !loop.preCopying()) {
            throw new AssertionError("no pre-copy started");
        }
        long epoch = loop.nextEpoch() - 1;
        deviceStateAtEpoch.put(epoch, "device-state-" + (++captures));
        int writes = 200;
        while (loop.preCopying()) {
            if (writes > 0) {
                domain.writeRandomPages(Math.min(writes, 60), random);
                writes -= 60;
            }
            memoryAtEpoch.put(epoch, domain.snapshot());
            diskAtEpoch.put(epoch, diskNow());
            primaryNowNs += STEP_NS;
            if (loop.doWork(primaryNowNs) == 0) {
                Thread.sleep(1);
            }
        }
        return epoch;
    }

    /** The guest's whole RAM as it was when checkpoint {@code epoch} was taken. */
    byte[] memoryAt(long epoch) {
        return memoryAtEpoch.get(epoch);
    }

    void awaitReady() throws InterruptedException {
        await(client::isReady, "the backup accepting the primary");
    }

    void awaitAck(long epoch) throws InterruptedException {
        await(() -> primary.progress().lastAckedEpoch() >= epoch, "ACK of epoch " + epoch);
    }

    /** Waits until net-buffer has handed out everything released so far. */
    void drainEgress() throws Exception {
        egressLoop.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /**
     * The primary's host dies: nothing more leaves it (no GOODBYE, no output, no heartbeats: its replication
     * and heartbeat channels run on the loops that stop here).
     */
    void killPrimary() {
        primaryDead.set(true);
        primaryLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Lets the backup's clock run past the dead-after time and checks for failover. */
    FailoverController.Outcome failover() throws InterruptedException {
        await(() -> !backup.isConnected(DOMAIN), "the backup noticing the lost connection");
        backupNowNs.addAndGet(DETECTION.deadAfterNs() + TimeUnit.MILLISECONDS.toNanos(10));
        backup.pollFailover(backupNowNs.get());
        return backup.slot(DOMAIN).failover().outcome();
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    @Override
    public void close() {
        if (!primaryDead.get()) {
            killPrimary();
        }
        primary.close();
        backupLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        backupDaemon.close();
        heartbeatLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        egressLoop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            disk.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        domain.close();
    }
}
