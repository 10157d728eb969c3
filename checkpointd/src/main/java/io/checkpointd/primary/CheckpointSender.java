package io.checkpointd.primary;

import io.checkpointd.driver.GuestMemory;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.disk.EpochWrites;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.DiskWrite;
import io.checkpointd.replication.wire.Frame;
import io.checkpointd.replication.wire.PageEncoding;
import io.checkpointd.replication.wire.Pages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import io.checkpointd.util.Agent;
import io.checkpointd.util.AgentRunner;
import io.checkpointd.util.NanoClock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends checkpoints to the backup, after the guest has resumed: batches pages into PAGES frames
 * (LZ4-compressed unless that does not help), then the device state, then END with a CRC32C digest of
 * everything sent and the page count. An {@link Agent}: its runner drains a queue of {@link SendJob}s the epoch
 * loop fills (and wakes it for), one job per {@link #doWork}: staging buffers (returned to the pool once encoded, before the ACK) and live pre-copy rounds (read
 * straight from guest RAM). A full checkpoint taken live spans several jobs, so the open checkpoint's
 * digest and count live here between them.
 *
 * <p>Work prepared for an older connection is dropped unsent: the new connection begins with a full
 * checkpoint, which supersedes it.
 *
 * <p>Public for the send-path benchmark in bench/, which calls {@link #send} on its own thread.
 */
public final class CheckpointSender implements CheckpointSink, Agent {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointSender.class);
    static final int DEVICE_STATE_CHUNK_BYTES = 256 * 1024;
    /** Disk data per DISK_WRITE frame: well under the smallest frame limit a backup may set (64 KiB + headers is the floor). */
    static final int DISK_CHUNK_BYTES = 32 * 1024;
    /** Idle wait between polls. Every submit wakes the runner (an unpark is never lost), so this costs no latency. */
    private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(50);

    private final ReplicationLink link;
    private final StagingPool pool;
    private final GuestMemory memory;
    private final PrimaryMetrics metrics;
    private final int batchPages;
    private final LZ4Compressor compressor; // null: send RAW
    private final Queue<SendJob> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong roundsCompleted = new AtomicLong();
    private final String roleName;
    private Runnable wake = () -> { }; // wakes the runner's idle wait; set once before the first job

    private Path diskImage; // null: no mirrored disk
    private long diskBytes;

    /** The guest's disk image: a full checkpoint's first round sends all of it. */
    void attachDisk(Path image, long sizeBytes) {
        this.diskImage = image;
        this.diskBytes = sizeBytes;
    }

    // The checkpoint being sent across jobs (a live full one); -1 when none is open.
    private long openEpoch = -1;
    private final CRC32C openDigest = new CRC32C();
    private long openPages;

    public CheckpointSender(String domain, ReplicationLink link, StagingPool pool, GuestMemory memory,
                            PrimaryMetrics metrics, int batchPages, boolean compress) {
        this.link = link;
        this.pool = pool;
        this.memory = memory;
        this.metrics = metrics;
        this.batchPages = batchPages;
        this.compressor = compress ? LZ4Factory.fastestInstance().fastCompressor() : null;
        this.roleName = "sender-" + domain;
    }

    /** Runs this sender on its own thread, woken by each job; closing the runner drops what is queued. */
    AgentRunner start(NanoClock clock, Consumer<Throwable> onFailure) {
        AgentRunner runner = new AgentRunner(this, clock, onFailure, IDLE_PARK_NS);
        wake = runner::wake;
        return runner.start();
    }

    @Override
    public void submit(Staging staging) {
        queue.add(staging);
        wake.run();
    }

    @Override
    public void submitRound(LiveRound round) {
        queue.add(round);
        wake.run();
    }

    @Override
    public long roundsCompleted() {
        return roundsCompleted.get();
    }

    @Override
    public int doWork(long nowNs) throws InterruptedException {
        SendJob job = queue.poll();
        if (job == null) {
            return 0;
        }
        process(job);
        return 1;
    }

    @Override
    public String roleName() {
        return roleName;
    }

    /** Sends one job on the calling thread. */
    void process(SendJob job) throws InterruptedException {
        switch (job) {
            case Staging s -> {
                try {
                    if (!send(s)) {
                        abandon(s.epoch);
                    }
                } finally {
                    pool.release(s);
                }
            }
            case LiveRound r -> {
                if (!sendRound(r)) {
                    abandon(r.epoch());
                }
                // Counted even when abandoned: the epoch loop must not wait for it (it will see the new link).
                roundsCompleted.incrementAndGet();
            }
        }
    }

    private void abandon(long epoch) {
        metrics.abandonedCheckpoints.increment();
        openEpoch = -1;
        LOG.debug("checkpoint {} abandoned: its connection is gone", epoch);
    }

    /** One live round: pages read from guest RAM now. Round 1 opens the checkpoint. */
    private boolean sendRound(LiveRound r) throws InterruptedException {
        long gen = r.linkGeneration();
        if (gen != link.generation()) {
            return false;
        }
        if (r.first()) {
            open(r.epoch());
            if (!link.send(gen, new CheckpointBegin(r.epoch(), true, memory.pageCount(), 0))) {
                return false;
            }
            if (diskImage != null && !sendDiskImage(gen, r.epoch())) {
                return false;
            }
        } else if (openEpoch != r.epoch()) {
            return false; // round 1 was abandoned
        }
        int pageSize = memory.pageSizeBytes();
        long[] numbers = new long[batchPages];
        int count = 0;
        long rawBytes = 0;
        MemorySegment batch = pool.roundBuffer((long) batchPages * pageSize);
        for (long p = r.pages().nextPage(0); p >= 0; p = r.pages().nextPage(p + 1)) {
            // Copy each page out first: the guest may write it meanwhile, and compression needs stable input.
            MemorySegment.copy(memory.segment(), p * pageSize, batch, (long) count * pageSize, pageSize);
            numbers[count++] = p;
            if (count == batchPages) {
                if (!sendPages(gen, r.epoch(), numbers, count, batch)) {
                    return false;
                }
                rawBytes += (long) count * pageSize;
                count = 0;
            }
        }
        if (count > 0) {
            if (!sendPages(gen, r.epoch(), numbers, count, batch)) {
                return false;
            }
            rawBytes += (long) count * pageSize;
        }
        link.flush(gen);
        metrics.bytesRaw.increment(rawBytes);
        return true;
    }

    /** A staged checkpoint, or the paused part that closes a live full one. */
    public boolean send(Staging s) throws InterruptedException {
        long gen = s.linkGeneration;
        if (gen != link.generation()) {
            return false;
        }
        if (s.continuesPreCopy) {
            if (openEpoch != s.epoch) {
                return false;
            }
        } else {
            open(s.epoch);
            if (!link.send(gen, new CheckpointBegin(s.epoch, s.full, s.pageCount(), s.deviceState.length))) {
                return false;
            }
        }
        for (int from = 0; from < s.pageCount(); from += batchPages) {
            int count = Math.min(batchPages, s.pageCount() - from);
            long[] numbers = new long[count];
            for (int i = 0; i < count; i++) {
                numbers[i] = s.pageNumber(from + i);
            }
            if (!sendPages(gen, s.epoch, numbers, count, s.pages(from, count))) {
                return false;
            }
        }
        if (s.diskWrites != null && !sendDiskWrites(gen, s.epoch, s.diskWrites)) {
            return false;
        }
        openDigest.update(s.deviceState);
        for (int off = 0; off < s.deviceState.length; off += DEVICE_STATE_CHUNK_BYTES) {
            int len = Math.min(DEVICE_STATE_CHUNK_BYTES, s.deviceState.length - off);
            if (!link.send(gen, new DeviceState(s.epoch, Unpooled.wrappedBuffer(s.deviceState, off, len).copy()))) {
                return false;
            }
        }
        if (!link.send(gen, new CheckpointEnd(s.epoch, openPages, s.deviceState.length, openDigest.getValue()))) {
            return false;
        }
        openEpoch = -1;
        link.flush(gen);
        metrics.bytesRaw.increment(s.rawBytes());
        return true;
    }

    /**
     * The whole disk image, read now while the guest runs: blocks it writes meanwhile are in the write log,
     * sent after this with the checkpoint's final part, so the backup ends at the image as of the pause.
     */
    private boolean sendDiskImage(long gen, long epoch) throws InterruptedException {
        try (FileChannel image = FileChannel.open(diskImage, StandardOpenOption.READ)) {
            for (long off = 0; off < diskBytes; off += DISK_CHUNK_BYTES) {
                int len = (int) Math.min(DISK_CHUNK_BYTES, diskBytes - off);
                ByteBuf chunk = ByteBufAllocator.DEFAULT.heapBuffer(len, len);
                chunk.writeBytes(image, off, len);
                if (chunk.readableBytes() < len) {
                    chunk.writeZero(len - chunk.readableBytes()); // past a sparse image's end
                }
                if (!link.awaitWritable(gen)
                        || !link.send(gen, new DiskWrite(epoch, DiskWrite.Kind.WRITE, off, len, chunk))) {
                    return false;
                }
            }
            metrics.bytesRaw.increment(diskBytes);
            return true;
        } catch (IOException e) {
            LOG.error("cannot read the disk image {}: {}", diskImage, e.toString());
            return false;
        }
    }

    private boolean sendDiskWrites(long gen, long epoch, EpochWrites writes) throws InterruptedException {
        for (io.checkpointd.disk.DiskWrite w : writes.writes()) {
            DiskWrite.Kind kind = switch (w.kind()) {
                case WRITE -> DiskWrite.Kind.WRITE;
                case TRIM -> DiskWrite.Kind.TRIM;
                case ZEROES -> DiskWrite.Kind.ZEROES;
            };
            if (kind != DiskWrite.Kind.WRITE) {
                if (!link.send(gen, new DiskWrite(epoch, kind, w.offset(), w.length(), Unpooled.EMPTY_BUFFER))) {
                    return false;
                }
                continue;
            }
            for (int off = 0; off < w.dataBytes(); off += DISK_CHUNK_BYTES) {
                int len = Math.min(DISK_CHUNK_BYTES, w.dataBytes() - off);
                if (!link.awaitWritable(gen) || !link.send(gen, new DiskWrite(epoch, kind, w.offset() + off, len,
                        Unpooled.wrappedBuffer(w.data(), off, len)))) {
                    return false;
                }
            }
            metrics.bytesRaw.increment(w.dataBytes());
        }
        return true;
    }

    private void open(long epoch) {
        openEpoch = epoch;
        openDigest.reset();
        openPages = 0;
    }

    private boolean sendPages(long gen, long epoch, long[] numbers, int count, MemorySegment pages)
            throws InterruptedException {
        // Always a fresh array: the frame is written asynchronously and the caller refills its batch.
        long[] exact = java.util.Arrays.copyOf(numbers, count);
        ByteBuffer raw = pages.asSlice(0, (long) count * memory.pageSizeBytes()).asByteBuffer();
        openDigest.update(raw.duplicate());
        openPages += count;
        return link.awaitWritable(gen) && emit(gen, encodePages(epoch, exact, raw));
    }

    private boolean emit(long gen, Frame frame) {
        return link.send(gen, frame);
    }

    private Pages encodePages(long epoch, long[] numbers, ByteBuffer raw) {
        int rawBytes = raw.remaining();
        if (compressor != null) {
            int max = compressor.maxCompressedLength(rawBytes);
            ByteBuf out = ByteBufAllocator.DEFAULT.directBuffer(max);
            int len = compressor.compress(raw, raw.position(), rawBytes, out.internalNioBuffer(0, max), 0, max);
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

    /** Drops queued work (its connection is gone); staging buffers go back to the pool. */
    int drainQueued() {
        int n = 0;
        for (SendJob job; (job = queue.poll()) != null; n++) {
            if (job instanceof Staging s) {
                pool.release(s);
            } else {
                roundsCompleted.incrementAndGet();
            }
        }
        return n;
    }

    /** The runner stopped: what was queued is never sent. */
    @Override
    public void onClose() {
        drainQueued();
    }
}
