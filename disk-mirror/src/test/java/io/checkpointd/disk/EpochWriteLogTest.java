package io.checkpointd.disk;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.checkpointd.disk.DiskWrite.RECORD_OVERHEAD_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EpochWriteLogTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static ByteBuf bytes(int length, int value) {
        return Unpooled.wrappedBuffer(Images.filled(length, value));
    }

    @Test
    void closeEpochHandsOverTheEpochsChangesInOrderAndOpensTheNext() {
        try (EpochWriteLog log = new EpochWriteLog(1 << 20, registry, Tags.empty())) {
            log.onWrite(4096, bytes(10, 1));
            log.onTrim(0, 512);
            log.onZeroes(8192, 100);

            EpochWrites first = log.closeEpoch(1);
            assertThat(first.epoch()).isEqualTo(1);
            assertThat(first.overflowed()).isFalse();
            assertThat(first.writes()).containsExactly(DiskWrite.write(4096, Images.filled(10, 1)),
                    DiskWrite.trim(0, 512), DiskWrite.zeroes(8192, 100));
            assertThat(first.heldBytes()).isEqualTo(10 + 3L * RECORD_OVERHEAD_BYTES);
            assertThat(log.heldBytes()).isZero();

            log.onWrite(0, bytes(3, 2));
            assertThat(log.closeEpoch(5).writes()).containsExactly(DiskWrite.write(0, Images.filled(3, 2)));
            assertThat(log.closeEpoch(6).writes()).isEmpty();
            assertThat(log.lastClosedEpoch()).isEqualTo(6);
        }
    }

    @Test
    void theDataIsCopiedAndTheBufferLeftAsItWas() {
        try (EpochWriteLog log = new EpochWriteLog(1 << 20, registry, Tags.empty())) {
            ByteBuf data = Unpooled.buffer().writeBytes(new byte[] {9, 9, 1, 2, 3});
            data.skipBytes(2);
            log.onWrite(100, data);
            assertThat(data.readerIndex()).isEqualTo(2);
            data.setByte(2, 7); // the server reuses its buffers

            assertThat(log.closeEpoch(1).writes()).containsExactly(DiskWrite.write(100, new byte[] {1, 2, 3}));
            data.release();
        }
    }

    @Test
    void epochsMustIncrease() {
        try (EpochWriteLog log = new EpochWriteLog(1 << 20, registry, Tags.empty())) {
            log.closeEpoch(3);
            assertThatThrownBy(() -> log.closeEpoch(3)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> log.closeEpoch(2)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void anEpochOverItsBudgetIsDroppedWholeCountedAndReportedForResync() {
        long budget = 2 * (1000 + RECORD_OVERHEAD_BYTES);
        try (EpochWriteLog log = new EpochWriteLog(budget, registry, Tags.of("disk", "vda"))) {
            log.onWrite(0, bytes(1000, 1));
            log.onWrite(1000, bytes(1000, 1));
            assertThat(log.heldBytes()).isEqualTo(budget);
            log.onTrim(0, 10); // one record more than the budget
            log.onWrite(0, bytes(1000, 1)); // the epoch stays overflowed

            assertThat(log.heldBytes()).isZero();
            EpochWrites overflowed = log.closeEpoch(1);
            assertThat(overflowed.overflowed()).isTrue();
            assertThat(overflowed.writes()).isEmpty();
            assertThat(overflowed.heldBytes()).isZero();

            log.onWrite(0, bytes(1000, 2));
            EpochWrites next = log.closeEpoch(2);
            assertThat(next.overflowed()).isFalse();
            assertThat(next.writes()).hasSize(1);

            assertThat(registry.get(EpochWriteLogMetrics.OVERFLOWED_EPOCHS).counter().count()).isEqualTo(1);
            assertThat(registry.get(EpochWriteLogMetrics.DROPPED_BYTES).counter().count())
                    .isEqualTo(budget + RECORD_OVERHEAD_BYTES + 1000 + RECORD_OVERHEAD_BYTES);
        }
    }

    @Test
    @Timeout(30)
    void writesFromSeveralThreadsWhileEpochsCloseAreEachHandedOverOnceInOrder() throws Exception {
        int threads = 3;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (EpochWriteLog log = new EpochWriteLog(Long.MAX_VALUE, registry, Tags.empty())) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    start.await();
                    ByteBuf one = Unpooled.wrappedBuffer(new byte[] {(byte) thread});
                    for (int i = 0; i < perThread; i++) {
                        log.onWrite((long) thread * perThread + i, one);
                    }
                    return null;
                }));
            }
            start.countDown();
            List<DiskWrite> all = new ArrayList<>();
            long epoch = 0;
            while (!writers.stream().allMatch(Future::isDone)) {
                all.addAll(log.closeEpoch(++epoch).writes());
            }
            for (Future<?> writer : writers) {
                writer.get();
            }
            all.addAll(log.closeEpoch(++epoch).writes());

            assertThat(all).hasSize(threads * perThread);
            long[] next = new long[threads];
            for (int t = 0; t < threads; t++) {
                next[t] = (long) t * perThread;
            }
            for (DiskWrite write : all) {
                int thread = write.data()[0];
                assertThat(write.offset()).as("thread %d's writes in order, none lost or repeated", thread)
                        .isEqualTo(next[thread]++);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void metersHavePrometheusNames() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (EpochWriteLog log = new EpochWriteLog(1 << 20, prometheus, Tags.of("disk", "vda"))) {
            log.onWrite(0, bytes(100, 1));
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_writelog_held_bytes{disk=\"vda\"} " + (100 + RECORD_OVERHEAD_BYTES));
            log.closeEpoch(1);
            assertThat(prometheus.scrape()).contains(
                    "checkpointd_disk_writelog_held_bytes{disk=\"vda\"} 0",
                    "checkpointd_disk_writelog_epoch_bytes_count{disk=\"vda\"} 1",
                    "checkpointd_disk_writelog_epoch_bytes_sum{disk=\"vda\"} " + (100 + RECORD_OVERHEAD_BYTES),
                    "checkpointd_disk_writelog_overflowed_epochs_total{disk=\"vda\"} 0",
                    "checkpointd_disk_writelog_dropped_bytes_total{disk=\"vda\"} 0");
        } finally {
            prometheus.close();
        }
        assertThat(prometheus.getMeters()).isEmpty();
    }
}
