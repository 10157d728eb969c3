package io.checkpointd.bench.primary;

import io.checkpointd.bench.GuestRam;
import io.checkpointd.bench.PageBytes;
import io.checkpointd.bench.PageShape;
import io.checkpointd.bench.WireBytes;
import io.checkpointd.bench.backup.CheckpointReceiver;
import io.checkpointd.bench.wire.FrameBytes;
import io.checkpointd.config.ReplicationConfig;
import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.primary.CheckpointSender;
import io.checkpointd.primary.PrimaryMetrics;
import io.checkpointd.primary.Staging;
import io.checkpointd.primary.StagingPool;
import io.checkpointd.replication.wire.Frame;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * What a checkpoint costs after the guest has resumed, per {@link PageShape}: the sender's encoding and
 * the backup's decoding. The {@code pageMB} row is MB/s of guest pages; {@code wireMB} is MB/s of what
 * would go on the wire, so {@code pageMB / wireMB} is the compression ratio (also printed once per shape,
 * exactly, by {@code lz4Crc}'s tear-down).
 *
 * <p>Per batch of 64 pages (the default {@code batch-pages}), the building blocks:
 * <ul>
 *   <li>{@code rawCopy}: copying the batch once, what a RAW frame costs at least;
 *   <li>{@code crc32c}: the checkpoint digest alone;
 *   <li>{@code lz4Crc}: the sender's work: digest, LZ4 fast compression, RAW fallback when LZ4 does not shrink it;
 *   <li>{@code lz4DecodeCrc}: the backup's work: LZ4 safe decompression (or the RAW copy) and the digest.
 * </ul>
 * And the real code, per checkpoint of 16384 pages (64 MiB, more than this machine's L3 cache):
 * <ul>
 *   <li>{@code sendCheckpoint}: {@link CheckpointSender#send} with every frame encoded by the daemon's
 *       frame encoder (frame CRC32C included): everything before the socket;
 *   <li>{@code receiveCheckpoint}: those frames' bytes through the backup's frame decoder and
 *       {@code IncomingCheckpoint}, into the staging file: everything after the socket except the commit.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SendPathBenchmark {
    private static final int PAGE = GuestRam.PAGE_SIZE_BYTES;
    private static final int CHECKPOINT_PAGES = 16384;
    private static final int BATCH_PAGES = ReplicationConfig.defaults().batchPages();
    private static final int BATCH_BYTES = BATCH_PAGES * PAGE;
    private static final int BATCHES = CHECKPOINT_PAGES / BATCH_PAGES;
    private static final double BATCH_MB = BATCH_BYTES / 1e6;
    private static final double CHECKPOINT_MB = (double) CHECKPOINT_PAGES * PAGE / 1e6;

    @Param({"ZERO_MOSTLY", "HEAP", "MIXED", "RANDOM"})
    PageShape shape;

    private final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
    private final LZ4SafeDecompressor decompressor = LZ4Factory.fastestInstance().safeDecompressor();
    private final CRC32C crc = new CRC32C();
    private Arena arena;
    private Staging staged;
    private MemorySegment copyTarget;
    private ByteBuffer encodeTarget;
    private ByteBuffer decodeTarget;
    /** Per batch, what the sender would put in its PAGES frame: LZ4 data, or the raw pages. */
    private ByteBuffer[] encodedBatches;
    private boolean[] rawBatches;
    private int nextBatch;

    private CheckpointSender sender;
    private final FrameBytes frameBytes = new FrameBytes();
    private long sentWireBytes;
    private List<ByteBuf> capturedFrames;
    private final List<ByteBuf> wireFrames = new ArrayList<>();
    private Path storeDir;
    private CheckpointReceiver receiver;

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        arena = Arena.ofShared();
        MemorySegment ram = arena.allocate((long) CHECKPOINT_PAGES * PAGE, PAGE);
        shape.fill(ram, 42);
        staged = new Staging(PAGE);
        staged.copyFrom(ram, DirtyPageSet.all(CHECKPOINT_PAGES));
        staged.epoch = 1;
        staged.linkGeneration = 1;
        copyTarget = arena.allocate(BATCH_BYTES, PAGE);
        int maxCompressed = compressor.maxCompressedLength(BATCH_BYTES);
        encodeTarget = arena.allocate(maxCompressed, PAGE).asByteBuffer();
        decodeTarget = arena.allocate(BATCH_BYTES, PAGE).asByteBuffer();
        encodeBatches(maxCompressed);

        PrimaryMetrics metrics = new PrimaryMetrics(new SimpleMeterRegistry(), "bench");
        SinkLink link = new SinkLink(this::putOnWire);
        sender = new CheckpointSender("bench", link, new StagingPool(PAGE), new GuestMemory(ram, Path.of("bench-ram"), PAGE),
                metrics, BATCH_PAGES, true);
        capturedFrames = wireFrames;
        sendOnce();
        capturedFrames = null;

        Path shm = Path.of("/dev/shm");
        // tmpfs when there is one: a disk-backed staging file would add write-back I/O to the measurement.
        storeDir = Files.createTempDirectory(Files.isDirectory(shm) && Files.isWritable(shm) ? shm
                : Path.of(System.getProperty("java.io.tmpdir")), "checkpointd-bench-");
        receiver = new CheckpointReceiver(storeDir, (long) CHECKPOINT_PAGES * PAGE, PAGE,
                Math.toIntExact(ReplicationConfig.defaults().maxFrameBytes()));
        receiveOnce();
    }

    /** Encodes every batch once as the sender would, for the decode benchmark and the exact ratio. */
    private void encodeBatches(int maxCompressed) {
        encodedBatches = new ByteBuffer[BATCHES];
        rawBatches = new boolean[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            ByteBuffer raw = batch(b).asByteBuffer();
            int len = compressor.compress(raw, 0, BATCH_BYTES, encodeTarget, 0, maxCompressed);
            rawBatches[b] = len >= BATCH_BYTES;
            ByteBuffer encoded = arena.allocate(rawBatches[b] ? BATCH_BYTES : len).asByteBuffer();
            encoded.put(0, rawBatches[b] ? raw : encodeTarget, 0, encoded.capacity());
            encodedBatches[b] = encoded;
        }
    }

    private void putOnWire(Frame frame) {
        ByteBuf wire = frameBytes.encode(frame);
        try {
            sentWireBytes += wire.readableBytes();
            if (capturedFrames != null) {
                capturedFrames.add(Unpooled.directBuffer(wire.readableBytes()).writeBytes(wire));
            }
        } finally {
            wire.release();
            ReferenceCountUtil.release(frame);
        }
    }

    private long sendOnce() throws InterruptedException {
        sentWireBytes = 0;
        if (!sender.send(staged)) {
            throw new IllegalStateException("the sender gave up on an always-ready link");
        }
        return sentWireBytes;
    }

    private void receiveOnce() {
        boolean verified = false;
        for (ByteBuf frame : wireFrames) {
            verified |= receiver.receive(frame.retainedDuplicate());
        }
        if (!verified) {
            throw new IllegalStateException("the checkpoint did not verify");
        }
    }

    private MemorySegment batch(int index) {
        return staged.pages(index * BATCH_PAGES, BATCH_PAGES);
    }

    private int nextBatch() {
        int b = nextBatch;
        nextBatch = b + 1 == BATCHES ? 0 : b + 1;
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown(BenchmarkParams params) throws IOException {
        if (params.getBenchmark().endsWith(".lz4Crc")) {
            printRatio();
        }
        receiver.close();
        wireFrames.forEach(ByteBuf::release);
        wireFrames.clear();
        sender.onClose(); // never started: its runner would drop what is queued
        frameBytes.close();
        staged.close();
        arena.close();
        try (Stream<Path> files = Files.walk(storeDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void printRatio() {
        long dataBytes = 0;
        int raw = 0;
        for (int b = 0; b < BATCHES; b++) {
            dataBytes += encodedBatches[b].capacity();
            raw += rawBatches[b] ? 1 : 0;
        }
        long wireBytes = 0;
        for (ByteBuf frame : wireFrames) {
            wireBytes += frame.readableBytes();
        }
        long pageBytes = (long) CHECKPOINT_PAGES * PAGE;
        System.out.printf("%n%s: compression ratio %.2f (%.2f MB of pages -> %.2f MB of PAGES data, %d of %d batches"
                        + " sent RAW); with frame headers %.2f MB on the wire, ratio %.2f; %s%n",
                shape, (double) pageBytes / dataBytes, pageBytes / 1e6, dataBytes / 1e6, raw, BATCHES,
                wireBytes / 1e6, (double) pageBytes / wireBytes, LZ4Factory.fastestInstance());
    }

    @Benchmark
    public MemorySegment rawCopy(PageBytes pages) {
        MemorySegment.copy(batch(nextBatch()), 0, copyTarget, 0, BATCH_BYTES);
        pages.pageMB += BATCH_MB;
        return copyTarget;
    }

    @Benchmark
    public long crc32c(PageBytes pages) {
        crc.update(batch(nextBatch()).asByteBuffer());
        pages.pageMB += BATCH_MB;
        return crc.getValue();
    }

    /** As {@code CheckpointSender} does per batch, minus the frame: digest, compress, fall back to RAW. */
    @Benchmark
    public long lz4Crc(PageBytes pages, WireBytes wire) {
        ByteBuffer raw = batch(nextBatch()).asByteBuffer();
        crc.update(raw.duplicate());
        int len = compressor.compress(raw, 0, BATCH_BYTES, encodeTarget, 0, encodeTarget.capacity());
        if (len >= BATCH_BYTES) {
            encodeTarget.put(0, raw, 0, BATCH_BYTES);
            len = BATCH_BYTES;
        }
        pages.pageMB += BATCH_MB;
        wire.wireMB += len / 1e6;
        return crc.getValue() + len;
    }

    /** As {@code IncomingCheckpoint} does per batch: safe decompression (or the RAW copy), then the digest. */
    @Benchmark
    public long lz4DecodeCrc(PageBytes pages, WireBytes wire) {
        int b = nextBatch();
        ByteBuffer encoded = encodedBatches[b];
        if (rawBatches[b]) {
            decodeTarget.put(0, encoded, 0, BATCH_BYTES);
        } else {
            int decoded = decompressor.decompress(encoded, 0, encoded.capacity(), decodeTarget, 0, BATCH_BYTES);
            if (decoded != BATCH_BYTES) {
                throw new IllegalStateException("batch " + b + " decoded to " + decoded + " bytes");
            }
        }
        crc.update(decodeTarget.duplicate());
        pages.pageMB += BATCH_MB;
        wire.wireMB += encoded.capacity() / 1e6;
        return crc.getValue();
    }

    @Benchmark
    public long sendCheckpoint(PageBytes pages, WireBytes wire) throws InterruptedException {
        long bytes = sendOnce();
        pages.pageMB += CHECKPOINT_MB;
        wire.wireMB += bytes / 1e6;
        return bytes;
    }

    @Benchmark
    public void receiveCheckpoint(PageBytes pages) {
        receiveOnce();
        pages.pageMB += CHECKPOINT_MB;
    }
}
