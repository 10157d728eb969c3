package io.checkpointd.primary;

import io.checkpointd.backup.BackupMetrics;
import io.checkpointd.backup.BackupServer;
import io.checkpointd.backup.FailoverController;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.failure.HeartbeatChannel;
import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.net.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.replication.Transport;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A primary and a backup in one process over a chosen {@link Transport}, built from the real classes:
 * epoch loop, sender, client, net-buffer, backup server, failover controller. The test is the guest and
 * its client: {@link #request(int)} changes a key in guest RAM and sends the reply through net-buffer;
 * {@link #received} is what the client got. Faults come from a {@link FaultInjector} in the primary's
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
    private final EventLoopGroup heartbeatLoops = Transport.TCP.newGroup(1);
    private final EventLoopGroup primaryLoops;
    private final DefaultEventLoop egressLoop = new DefaultEventLoop();
    final AtomicLong backupNowNs = new AtomicLong(TimeUnit.SECONDS.toNanos(1));
    private EventLoopGroup backupLoops;
    BackupServer backup;
    BackupMetrics backupMetrics;
    private SocketAddress backupAddress;
    final List<Restored> restored = new CopyOnWriteArrayList<>();
    final TestDomain domain;
    final List<Reply> received = new CopyOnWriteArrayList<>();
    final AtomicBoolean primaryDead = new AtomicBoolean();
    final AtomicReference<FaultInjector.Fault> faults = new AtomicReference<>(FaultInjector.Fault.NONE);
    final CheckpointProgress progress = new CheckpointProgress();
    final PrimaryMetrics metrics = new PrimaryMetrics(new SimpleMeterRegistry(), DOMAIN);
    private final Map<Long, byte[]> memoryAtEpoch = new ConcurrentHashMap<>();
    private final long[] values = new long[KEYS];
    private final HeartbeatChannel primaryHeartbeats;
    private final HeldEgress egress;
    private final StagingPool pool = new StagingPool(PAGE);
    final PrimaryClient client;
    private final CheckpointSender sender;
    final EpochLoop loop;
    private long primaryNowNs;
    private final Path diskImage;
    private final FileChannel disk;
    private final EpochWriteLog diskLog;
    private final Map<Long, byte[]> diskAtEpoch = new ConcurrentHashMap<>();
    private long diskRecords;
    private final Map<Long, String> deviceStateAtEpoch = new ConcurrentHashMap<>();
    private int captures; // TestDomain numbers its device states by capture

    /** Full checkpoints are taken live, as the daemon does by default. */
    Cluster(Transport transport, Path dir) throws IOException {
        this.transport = transport;
        this.dir = dir;
        this.primaryLoops = transport.newGroup(2);
        startBackup(dir.resolve("backup"), transport == Transport.TCP ? new InetSocketAddress("127.0.0.1", 0)
                : new LocalAddress("checkpointd-" + UUID.randomUUID()));
        domain = new TestDomain(dir.resolve("primary.ram"), RAM, PAGE);
        OutputBuffer buffer = new OutputBuffer(1 << 20, 10_000, new SimpleMeterRegistry(), Tags.empty());
        egress = new HeldEgress(egressLoop, buffer, this::deliver, System::nanoTime, true);
        long token = 0x7e57L;
        PeerMonitor monitor = new PeerMonitor(DETECTION.suspectAfterNs(), DETECTION.deadAfterNs(),
                new SimpleMeterRegistry(), Tags.empty());
        primaryHeartbeats = transport.isSocket() ? HeartbeatChannel.open(heartbeatLoops, "127.0.0.1", 0,
                DETECTION.heartbeatIntervalNs(), token, System::nanoTime, monitor) : null;
        Hello hello = new Hello(FrameCodec.PROTOCOL_VERSION, DOMAIN, RAM, PAGE,
                primaryHeartbeats == null ? 0 : primaryHeartbeats.localPort(), token, "{\"diskBytes\": " + DISK + "}");
        diskImage = dir.resolve("primary.disk");
        disk = FileChannel.open(diskImage, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        disk.write(ByteBuffer.wrap(new byte[1]), DISK - 1);
        diskLog = new EpochWriteLog(64L << 20, new SimpleMeterRegistry(), Tags.empty());
        client = new PrimaryClient(primaryLoops, transport, backupAddress, p -> p.addLast(new FaultInjector(faults::get)), hello,
                progress, egress, metrics, System::nanoTime, TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.SECONDS.toNanos(5),
                4 << 20, 64, DETECTION, monitor, primaryHeartbeats);
        sender = new CheckpointSender(DOMAIN, client, pool, domain.memory(), metrics, 8, true).start();
        loop = new EpochLoop(domain, client, egress, pool, sender, progress, metrics, new DirtyStats(),
                new InitialSyncStats(), () -> primaryNowNs, 1, 4, true);
        loop.attachDisk(diskLog);
        sender.attachDisk(diskImage, DISK);
        client.start();
    }

    void startBackup(Path backupDir, SocketAddress address) {
        backupLoops = transport.newGroup(1);
        backupMetrics = new BackupMetrics(new SimpleMeterRegistry());
        FailoverController.Restorer restorer = (domainName, description, replica, deviceState, diskImage, ramInPlace) -> {
            restored.add(new Restored(Files.readAllBytes(replica), new String(deviceState, StandardCharsets.US_ASCII),
                    diskImage == null ? null : Files.readAllBytes(diskImage)));
            return () -> { };
        };
        backup = new BackupServer(backupDir, backupMetrics, 1 << 20, DETECTION, restorer, new SimpleMeterRegistry(),
                backupNowNs::get);
        backupAddress = backup.start(backupLoops, heartbeatLoops, transport, address, 4 << 20, 1024);
    }

    /** The backup's host dies: its loops and sockets go away at once. */
    void crashBackup() {
        backupLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        backup.close();
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
                received.add(new Reply(frame.getInt(0), frame.getLong(4), frame.getLong(12)));
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
        primaryNowNs += TimeUnit.MILLISECONDS.toNanos(1);
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
            primaryNowNs += TimeUnit.MILLISECONDS.toNanos(1);
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
        primaryNowNs += TimeUnit.MILLISECONDS.toNanos(1);
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
            primaryNowNs += TimeUnit.MILLISECONDS.toNanos(1);
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
        await(() -> progress.lastAckedEpoch() >= epoch, "ACK of epoch " + epoch);
    }

    /** Waits until net-buffer has handed out everything released so far. */
    void drainEgress() throws Exception {
        egressLoop.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /** The primary's host dies: nothing more leaves it (no GOODBYE, no output, no heartbeats). */
    void killPrimary() {
        primaryDead.set(true);
        primaryLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        if (primaryHeartbeats != null) {
            primaryHeartbeats.close();
        }
        sender.close();
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
        backupLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        heartbeatLoops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        egressLoop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        backup.close();
        diskLog.close();
        try {
            disk.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        pool.close();
        domain.close();
    }
}
