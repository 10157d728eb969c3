package io.checkpointd.backup;

import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.driver.StandbyListener;
import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.primary.CheckpointFrames;
import io.checkpointd.util.NanoClock;
import io.checkpointd.replication.wire.Ack;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.replication.wire.HelloAck;
import io.checkpointd.replication.wire.PageEncoding;
import io.checkpointd.replication.wire.Pages;
import io.checkpointd.replication.wire.Standby;
import io.checkpointd.testing.TestDomain;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.util.Map;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup commits only whole, verified checkpoints. Frames come from the real epoch loop and sender
 * over a {@link TestDomain}; the session runs in an EmbeddedChannel.
 */
class BackupSessionTest {
    private static final int PAGE = 4096;
    private static final long RAM = 128 * PAGE;

    @TempDir
    Path dir;

    private TestDomain domain;
    private CheckpointFrames frames;
    private BackupServer stores;
    private BackupMetrics metrics;
    private final SplittableRandom random = new SplittableRandom(3);

    @BeforeEach
    void setUp() {
        domain = new TestDomain(dir.resolve("primary.ram"), RAM, PAGE);
        frames = new CheckpointFrames(domain, 8, true);
        metrics = new BackupMetrics(new SimpleMeterRegistry());
        stores = server(dir.resolve("backup"), metrics);
    }

    /** A server whose domains must never fail over in these tests. */
    static BackupServer server(Path dir, BackupMetrics metrics) {
        return new BackupServer(dir, metrics, 1 << 20, FailureDetectorConfig.defaults(),
                (domain, description, replica, device, disk, ramInPlace) -> {
                    throw new AssertionError("no failover expected");
                }, new SimpleMeterRegistry(), NanoClock.SYSTEM,
                new DomainConsent(Map.of("test", List.of("primary"))), null, 1L << 30);
    }

    @AfterEach
    void tearDown() {
        stores.close();
        frames.close();
        domain.close();
    }

    private EmbeddedChannel connect() {
        EmbeddedChannel ch = new EmbeddedChannel(new BackupSession(stores, metrics, 1 << 20, NanoClock.SYSTEM));
        ch.writeInbound(new Hello("test", new GuestSpec("test", RAM, PAGE, 0, "")));
        HelloAck ack = ch.readOutbound();
        assertThat(ack.accepted()).as(ack.rejection()).isTrue();
        return ch;
    }

    private static void feed(EmbeddedChannel ch, List<Frame> frames) {
        for (Frame f : frames) {
            ch.writeInbound(f);
        }
    }

    private byte[] replica() {
        return stores.store("test").replica().toArray(ValueLayout.JAVA_BYTE);
    }

    private static void releaseAll(List<Frame> frames) {
        for (Frame f : frames) {
            if (f instanceof ReferenceCounted rc && rc.refCnt() > 0) {
                rc.release();
            }
        }
    }

    /**
     * A restorer with a standby: the primary hears it is ready, the standby's RAM file follows every commit,
     * and the failover is told the RAM is already in place (no copy).
     */
    @Test
    void aReadyStandbysRamFollowsTheReplicaAndIsRestoredInPlace() throws Exception {
        Path standbyRam = dir.resolve("standby-pc.ram");
        Files.write(standbyRam, new byte[(int) RAM]);
        java.util.concurrent.atomic.AtomicReference<Path> restoredInPlace = new java.util.concurrent.atomic.AtomicReference<>();
        GuestRestorer withStandby = new GuestRestorer() {
            @Override
            public AutoCloseable restore(String d, GuestSpec guest, Path replica, byte[] device, Path disk,
                                         Path ramInPlace) {
                restoredInPlace.set(ramInPlace);
                return () -> { };
            }

            @Override
            public void prepare(String d, GuestSpec guest, Path disk, StandbyListener listener) {
                listener.onStandby(standbyRam);
            }
        };
        BackupServer server = new BackupServer(dir.resolve("standby-backup"), metrics, 1 << 20,
                FailureDetectorConfig.defaults(), withStandby, new SimpleMeterRegistry(), NanoClock.SYSTEM,
                new DomainConsent(Map.of("test", List.of("primary"))), null, 1L << 30);
        try {
            EmbeddedChannel ch = new EmbeddedChannel(new BackupSession(server, metrics, 1 << 20, NanoClock.SYSTEM));
            ch.writeInbound(new Hello("test", new GuestSpec("test", RAM, PAGE, 0, "")));
            ch.runPendingTasks();
            assertThat(((HelloAck) ch.readOutbound()).accepted()).isTrue();
            Standby standby = ch.readOutbound();
            assertThat(standby).isEqualTo(new Standby(true));
            assertThat(server.slot("test").failover().standbyReady()).isTrue();
            for (int epoch = 1; epoch <= 4; epoch++) {
                domain.writeRandomPages(random.nextInt(1, 40), random);
                byte[] expected = domain.snapshot();
                feed(ch, frames.next());
                assertThat(((Ack) ch.readOutbound()).epoch()).isEqualTo(epoch);
                assertThat(Files.readAllBytes(standbyRam)).as("standby RAM after epoch %d", epoch).isEqualTo(expected);
            }
            server.pollFailover(System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1));
            assertThat(server.slot("test").failover().outcome()).isNotNull();
            assertThat(restoredInPlace.get()).isEqualTo(standbyRam);
            ch.finishAndReleaseAll();
        } finally {
            server.close();
        }
    }

    @Test
    void replicaBuiltFromCheckpointsEqualsThePrimaryMemoryAtEachOne() {
        EmbeddedChannel ch = connect();
        for (int epoch = 1; epoch <= 6; epoch++) {
            domain.writeRandomPages(random.nextInt(1, 40), random);
            byte[] expected = domain.snapshot();
            feed(ch, frames.next());
            Ack ack = ch.readOutbound();
            assertThat(ack.epoch()).isEqualTo(epoch);
            assertThat(replica()).as("replica after epoch %d", epoch).isEqualTo(expected);
        }
        assertThat(ReplicaStore.committedEpoch(dir.resolve("backup"), "test")).isEqualTo(6);
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aCheckpointCutAtAnyFrameBoundaryLeavesTheReplicaAtThePreviousOne() {
        EmbeddedChannel first = connect();
        domain.writeRandomPages(20, random);
        byte[] committed = domain.snapshot();
        feed(first, frames.next());
        assertThat(first.<Ack>readOutbound().epoch()).isEqualTo(1);
        first.close();

        domain.writeRandomPages(60, random); // 60 pages in batches of 8: several PAGES frames
        byte[] next = domain.snapshot();
        List<Frame> ckpt = frames.next();
        assertThat(ckpt.size()).isGreaterThan(4);
        for (int cut = 0; cut <= ckpt.size(); cut++) {
            EmbeddedChannel ch = connect();
            // A new connection starts with a full checkpoint: the state of epoch 1 again, renumbered.
            feed(ch, fullCheckpointOf(committed));
            assertThat(ch.<Ack>readOutbound()).isNotNull();
            List<Frame> attempt = renumber(ckpt, stores.store("test").lastCommittedEpoch() + 1);
            for (int i = 0; i < cut; i++) {
                ch.writeInbound(ReferenceCountUtil.retain(attempt.get(i)));
            }
            if (cut == ckpt.size()) {
                assertThat(ch.<Ack>readOutbound().epoch()).isEqualTo(attempt.getFirst().epoch());
                assertThat(replica()).isEqualTo(next);
            } else {
                ch.close();
                assertThat(ch.<Object>readOutbound()).as("no ACK for a partial checkpoint").isNull();
                assertThat(replica()).as("cut after %d of %d frames", cut, ckpt.size()).isEqualTo(committed);
            }
        }
        releaseAll(ckpt);
        assertThat(metrics.discarded()).as("every cut inside a checkpoint discards it").isEqualTo(ckpt.size() - 1);
    }

    /** A full checkpoint holding {@code ram} with an epoch above anything committed. */
    private List<Frame> fullCheckpointOf(byte[] ram) {
        Path file = dir.resolve("base-" + random.nextInt() + ".ram");
        try (TestDomain base = new TestDomain(file, RAM, PAGE)) {
            base.memory().segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(ram));
            try (CheckpointFrames gen = new CheckpointFrames(base, 8, true)) {
                List<Frame> f = gen.next();
                // Renumber: same content, epoch after the store's last committed one.
                long epoch = stores.store("test").lastCommittedEpoch() + 1;
                return renumber(f, epoch);
            }
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // temp dir cleanup will take it
            }
        }
    }

    private static List<Frame> renumber(List<Frame> frames, long epoch) {
        return frames.stream().<Frame>map(f -> switch (f) {
            case CheckpointBegin b -> new CheckpointBegin(epoch, b.full(), b.pageCount(), b.deviceStateBytes());
            case Pages p -> new Pages(epoch, p.pageNumbers(), p.encoding(), p.data());
            case io.checkpointd.replication.wire.DeviceState d -> new io.checkpointd.replication.wire.DeviceState(epoch, d.data());
            case CheckpointEnd e -> new CheckpointEnd(epoch, e.pageCount(), e.deviceStateBytes(), e.digest());
            default -> f;
        }).toList();
    }

    @Test
    void aDigestMismatchIsDiscardedAndTheConnectionClosed() {
        EmbeddedChannel ch = connect();
        domain.writeRandomPages(10, random);
        byte[] committed = domain.snapshot();
        feed(ch, frames.next());
        ch.readOutbound();
        domain.writeRandomPages(10, random);
        List<Frame> ckpt = frames.next();
        CheckpointEnd end = (CheckpointEnd) ckpt.getLast();
        feed(ch, ckpt.subList(0, ckpt.size() - 1));
        ch.writeInbound(new CheckpointEnd(end.epoch(), end.pageCount(), end.deviceStateBytes(), end.digest() ^ 1));
        assertThat(ch.isActive()).isFalse();
        assertThat(replica()).isEqualTo(committed);
        assertThat(metrics.discarded()).isEqualTo(1);
    }

    @Test
    void refusesIncrementsOnANewConnectionAndOutOfRangePages() {
        EmbeddedChannel ch = connect();
        feed(ch, frames.next());
        ch.readOutbound();
        domain.writeRandomPages(3, random);
        List<Frame> increment = frames.next();
        ch.close();

        EmbeddedChannel again = connect();
        again.writeInbound(increment.getFirst());
        assertThat(again.isActive()).as("an increment may not start a connection").isFalse();
        releaseAll(increment);

        EmbeddedChannel third = connect();
        long epoch = stores.store("test").lastCommittedEpoch() + 1;
        third.writeInbound(new CheckpointBegin(epoch, true, RAM / PAGE, 0));
        Pages bad = new Pages(epoch, new long[] {RAM / PAGE}, PageEncoding.RAW, Unpooled.wrappedBuffer(new byte[PAGE]));
        third.writeInbound(bad);
        assertThat(third.isActive()).as("page number past the end of RAM").isFalse();
        assertThat(bad.refCnt()).isZero();
    }

    @Test
    void refusesAPrimaryWhoseGuestItCouldNotRestore() {
        GuestRestorer unable = new GuestRestorer() {
            @Override
            public AutoCloseable restore(String d, GuestSpec guest, Path replica, byte[] device, Path disk,
                                         Path ramInPlace) {
                throw new AssertionError("no failover expected");
            }

            @Override
            public String cannotRestore(GuestSpec guest) {
                return "no tap for " + guest.description();
            }
        };
        Path base = dir.resolve("unable");
        BackupServer server = new BackupServer(base, metrics, 1 << 20, FailureDetectorConfig.defaults(), unable,
                new SimpleMeterRegistry(), NanoClock.SYSTEM,
                new DomainConsent(Map.of("test", List.of("primary"))), null, 1L << 30);
        try {
            EmbeddedChannel ch = new EmbeddedChannel(new BackupSession(server, metrics, 1 << 20, NanoClock.SYSTEM));
            ch.writeInbound(new Hello(FrameCodec.PROTOCOL_VERSION, "test", 0, 1, new GuestSpec("test", RAM, PAGE, 0, "the-guest")));
            HelloAck ack = ch.readOutbound();
            assertThat(ack.accepted()).isFalse();
            assertThat(ack.rejection())
                    .isEqualTo("this backup could not restore domain 'test' after a failover: no tap for the-guest");
            assertThat(base.resolve("test")).doesNotExist();
        } finally {
            server.close();
        }
    }

    @Test
    void refusesAHelloThatCannotBeServed() {
        EmbeddedChannel ch = new EmbeddedChannel(new BackupSession(stores, metrics, 1 << 20, NanoClock.SYSTEM));
        ch.writeInbound(new Hello("../etc", new GuestSpec("test", RAM, PAGE, 0, "")));
        HelloAck ack = ch.readOutbound();
        assertThat(ack.accepted()).isFalse();
        assertThat(ack.rejection()).contains("../etc");
        EmbeddedChannel other = new EmbeddedChannel(new BackupSession(stores, metrics, 1 << 20, NanoClock.SYSTEM));
        other.writeInbound(new Hello(2, "", 0, 0, null)); // how a version 2 HELLO decodes
        assertThat(other.<HelloAck>readOutbound().rejection()).isEqualTo("protocol version 2 is not supported (this "
                + "backup speaks " + FrameCodec.PROTOCOL_VERSION + "): run the same checkpointd release on both hosts");
        EmbeddedChannel unknownDriver = new EmbeddedChannel(new BackupSession(stores, metrics, 1 << 20, NanoClock.SYSTEM));
        unknownDriver.writeInbound(new Hello("test", new GuestSpec("Xen!", RAM, PAGE, 0, "")));
        assertThat(unknownDriver.<HelloAck>readOutbound().rejection()).contains("driver name 'Xen!'");
    }

    @Test
    void aReplicaTornByACrashMidApplyIsNotTrusted() throws IOException {
        EmbeddedChannel ch = connect();
        feed(ch, frames.next());
        ch.readOutbound();
        ch.close();
        stores.close();
        Path record = dir.resolve("backup").resolve("test").resolve("commit.record");
        Files.writeString(record, Files.readString(record).replace("state=committed", "state=applying"));
        assertThat(ReplicaStore.committedEpoch(dir.resolve("backup"), "test")).isEqualTo(-1);
        stores = server(dir.resolve("backup"), metrics);
        EmbeddedChannel again = new EmbeddedChannel(new BackupSession(stores, metrics, 1 << 20, NanoClock.SYSTEM));
        again.writeInbound(new Hello("test", new GuestSpec("test", RAM, PAGE, 0, "")));
        assertThat(again.<HelloAck>readOutbound().lastCommittedEpoch()).isZero();
    }

    @Test
    void aLiveFullCheckpointWithRepeatedPagesCommitsTheFinalImage() {
        try (CheckpointFrames live = new CheckpointFrames(domain, 8, true, true)) {
            EmbeddedChannel ch = connect();
            domain.writeRandomPages(30, random);
            List<Frame> round1 = live.step();
            assertThat(round1.getFirst()).isInstanceOf(CheckpointBegin.class);
            feed(ch, round1);
            domain.writeRandomPages(90, random); // more than 50: another live round
            feed(ch, live.step());
            assertThat(ch.<Object>readOutbound()).as("no ACK before END").isNull();
            domain.writeRandomPages(5, random);
            byte[] expected = domain.snapshot();
            List<Frame> last = live.step();
            assertThat(last.getLast()).isInstanceOf(CheckpointEnd.class);
            assertThat(((CheckpointEnd) last.getLast()).pageCount()).as("pages repeat across rounds")
                    .isGreaterThan(RAM / PAGE);
            feed(ch, last);
            assertThat(ch.<Ack>readOutbound()).isNotNull();
            assertThat(replica()).isEqualTo(expected);
        }
    }

    @Test
    void aFullCheckpointThatLeavesPagesOutIsRefused() {
        EmbeddedChannel ch = connect();
        ch.writeInbound(new CheckpointBegin(1, true, RAM / PAGE, 0));
        ch.writeInbound(new Pages(1, new long[] {0}, PageEncoding.RAW, Unpooled.wrappedBuffer(new byte[PAGE])));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(new byte[PAGE]);
        ch.writeInbound(new CheckpointEnd(1, 1, 0, crc.getValue()));
        assertThat(ch.isActive()).isFalse();
        assertThat(ReplicaStore.committedEpoch(dir.resolve("backup"), "test")).isEqualTo(-1);
    }
}
