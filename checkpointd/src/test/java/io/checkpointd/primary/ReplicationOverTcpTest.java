package io.checkpointd.primary;

import io.checkpointd.netbuffer.OutputCommit;
import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.backup.BackupMetrics;
import io.checkpointd.backup.BackupServer;
import io.checkpointd.backup.DomainConsent;
import io.checkpointd.config.FailureDetectorConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.failure.PeerMonitor;
import io.micrometer.core.instrument.Tags;
import io.checkpointd.dirty.DirtyStats;
import io.checkpointd.replication.wire.FrameCodec;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.testing.TestDomain;
import io.checkpointd.replication.Transport;
import io.checkpointd.util.AgentRunner;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Map;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Primary and backup over real TCP on loopback: the replica follows the primary checkpoint by checkpoint. */
class ReplicationOverTcpTest {
    private static final int PAGE = 4096;
    private static final long RAM = 2048L * PAGE;

    @TempDir
    Path dir;

    @Test
    void replicaEqualsPrimaryMemoryAtEveryAcknowledgedCheckpointAndOutputIsReleasedInOrder() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        MultiThreadIoEventLoopGroup heartbeatGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        BackupMetrics backupMetrics = new BackupMetrics(new SimpleMeterRegistry());
        BackupServer backup = new BackupServer(dir.resolve("backup"), backupMetrics, 1 << 20,
                FailureDetectorConfig.defaults(), (d, description, replica, device, disk, ramInPlace) -> {
                    throw new AssertionError("no failover expected");
                }, new SimpleMeterRegistry(), NanoClock.SYSTEM,
                new DomainConsent(Map.of("test", List.of("primary"))), null, 1L << 30);
        TestDomain domain = new TestDomain(dir.resolve("primary.ram"), RAM, PAGE);
        StagingPool pool = new StagingPool(PAGE);
        List<String> output = new CopyOnWriteArrayList<>();
        OutputCommit commit = new OutputCommit() {
            @Override public void barrier(long epoch) { output.add("barrier " + epoch); }
            @Override public void release(long epoch) { output.add("release " + epoch); }
            @Override public void releaseAll() { output.add("releaseAll"); }
        };
        try {
            InetSocketAddress address = (InetSocketAddress) backup.start(group, heartbeatGroup, Transport.TCP,
                    new InetSocketAddress("127.0.0.1", 0), 4 << 20, 64);
            CheckpointProgress progress = new CheckpointProgress();
            PrimaryMetrics metrics = new PrimaryMetrics(new SimpleMeterRegistry(), "test");
            PrimaryClient client = new PrimaryClient(group, new HostPort("127.0.0.1", address.getPort()),
                    new Hello("test", new GuestSpec("test", RAM, PAGE, 0, "")), progress, commit, metrics,
                    NanoClock.SYSTEM, TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.SECONDS.toNanos(5), 4 << 20, 64,
                    FailureDetectorConfig.defaults(), new PeerMonitor(300_000_000L, 1_000_000_000L,
                            new SimpleMeterRegistry(), Tags.empty()), null);
            CheckpointSender sender = new CheckpointSender("test", client, pool, domain.memory(), metrics, 64, true);
            AgentRunner senderRunner = sender.start(NanoClock.SYSTEM, failure -> { });
            long[] now = {0};
            EpochLoop loop = new EpochLoop(domain, client, commit, pool, sender, progress, metrics,
                    new DirtyStats(), new InitialSyncStats(), () -> now[0], 1, 4, false);
            client.start();
            await(client::isReady, "backup accepts HELLO");
            SplittableRandom random = new SplittableRandom(11);
            for (long epoch = 1; epoch <= 8; epoch++) {
                domain.writeRandomPages(random.nextInt(1, 700), random);
                byte[] expected = domain.snapshot();
                assertThat(loop.doWork(++now[0])).isEqualTo(1);
                long e = epoch;
                await(() -> progress.lastAckedEpoch() == e, "ACK of epoch " + e);
                byte[] replica = backup.store("test").replica().toArray(ValueLayout.JAVA_BYTE);
                assertThat(replica).as("replica at epoch %d", epoch).isEqualTo(expected);
            }
            await(() -> output.size() == 16, "all releases");
            for (int i = 0; i < 8; i++) {
                assertThat(output.get(2 * i)).isEqualTo("barrier " + (i + 1));
                assertThat(output.get(2 * i + 1)).isEqualTo("release " + (i + 1));
            }
            assertThat(backupMetrics.committed()).isEqualTo(8);
            assertThat(metrics.bytesWire()).isLessThan(metrics.bytesRaw()).isPositive();
            senderRunner.close();
            client.close();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            heartbeatGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            backup.close();
            pool.close();
            domain.close();
        }
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
}
