package io.checkpointd.primary;

import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.PageEncoding;
import io.checkpointd.replication.wire.Pages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends staged checkpoints to the backup, after the guest has resumed: batches pages into PAGES frames
 * (LZ4-compressed unless that does not help), then the device state, then END with a CRC32C digest of
 * everything sent. Owns its thread; the epoch loop hands it staging buffers through a queue and gets each
 * back (through the pool) as soon as it is encoded, before the ACK.
 *
 * <p>Checkpoints staged for an older connection are dropped unsent: the new connection begins with a full
 * checkpoint, which supersedes them.
 */
final class CheckpointSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointSender.class);
    static final int DEVICE_STATE_CHUNK_BYTES = 256 * 1024;

    private final ReplicationLink link;
    private final StagingPool pool;
    private final PrimaryMetrics metrics;
    private final int batchPages;
    private final LZ4Compressor compressor; // null: send RAW
    private final BlockingQueue<Staging> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    CheckpointSender(String domain, ReplicationLink link, StagingPool pool, PrimaryMetrics metrics, int batchPages,
                     boolean compress) {
        this.link = link;
        this.pool = pool;
        this.metrics = metrics;
        this.batchPages = batchPages;
        this.compressor = compress ? LZ4Factory.fastestInstance().fastCompressor() : null;
        this.thread = Thread.ofPlatform().name("sender-" + domain).unstarted(this::run);
    }

    CheckpointSender start() {
        thread.start();
        return this;
    }

    /** Queues a staged checkpoint; called by the epoch loop. */
    void submit(Staging staging) {
        queue.add(staging);
    }

    private void run() {
        try {
            while (running) {
                Staging staging = queue.poll(50, TimeUnit.MILLISECONDS);
                if (staging == null) {
                    continue;
                }
                try {
                    if (!send(staging)) {
                        metrics.abandonedCheckpoints.increment();
                        LOG.debug("checkpoint {} abandoned: its connection is gone", staging.epoch);
                    }
                } finally {
                    pool.release(staging);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Encodes and writes one checkpoint; false if its connection went away. */
    boolean send(Staging s) throws InterruptedException {
        long gen = s.linkGeneration;
        if (gen != link.generation()) {
            return false;
        }
        CRC32C digest = new CRC32C();
        if (!emit(gen, new CheckpointBegin(s.epoch, s.full, s.pageCount(), s.deviceState.length))) {
            return false;
        }
        for (int from = 0; from < s.pageCount(); from += batchPages) {
            int count = Math.min(batchPages, s.pageCount() - from);
            long[] numbers = new long[count];
            for (int i = 0; i < count; i++) {
                numbers[i] = s.pageNumber(from + i);
            }
            ByteBuffer raw = s.pages(from, count).asByteBuffer();
            digest.update(raw.duplicate());
            Pages pages = encodePages(s.epoch, numbers, raw);
            if (!link.awaitWritable(gen) || !emit(gen, pages)) {
                return false;
            }
        }
        digest.update(s.deviceState);
        for (int off = 0; off < s.deviceState.length; off += DEVICE_STATE_CHUNK_BYTES) {
            int len = Math.min(DEVICE_STATE_CHUNK_BYTES, s.deviceState.length - off);
            if (!emit(gen, new DeviceState(s.epoch, Unpooled.wrappedBuffer(s.deviceState, off, len).copy()))) {
                return false;
            }
        }
        if (!emit(gen, new CheckpointEnd(s.epoch, s.pageCount(), s.deviceState.length, digest.getValue()))) {
            return false;
        }
        link.flush(gen);
        metrics.bytesRaw.increment(s.rawBytes());
        return true;
    }

    private boolean emit(long gen, Frame frame) {
        return link.send(gen, frame);
    }

    private Pages encodePages(long epoch, long[] numbers, ByteBuffer raw) {
        int rawBytes = raw.remaining();
        if (compressor != null) {
            int max = compressor.maxCompressedLength(rawBytes);
            ByteBuf out = ByteBufAllocator.DEFAULT.directBuffer(max);
            int len = compressor.compress(raw, 0, rawBytes, out.internalNioBuffer(0, max), 0, max);
            if (len < rawBytes) {
                out.writerIndex(len);
                return new Pages(epoch, numbers, PageEncoding.LZ4, out);
            }
            out.release();
        }
        ByteBuf out = ByteBufAllocator.DEFAULT.directBuffer(rawBytes);
        out.writeBytes(raw.duplicate());
        return new Pages(epoch, numbers, PageEncoding.RAW, out);
    }

    /** Sends one checkpoint on the caller's thread (tests). */
    void sendNow(Staging staging) throws InterruptedException {
        try {
            send(staging);
        } finally {
            pool.release(staging);
        }
    }

    /** Drops queued checkpoints back into the pool (their connection is gone). */
    int drainQueued() {
        int n = 0;
        for (Staging s; (s = queue.poll()) != null; n++) {
            pool.release(s);
        }
        return n;
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainQueued();
    }

}
