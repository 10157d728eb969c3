package io.checkpointd.bench.disk;

import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.disk.WriteListener;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
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

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Guest write throughput through disk-mirror's NBD server beside writing the image file directly, in one
 * run. One operation is one write of {@code blockBytes} at the next offset of a 256 MiB image (wrapping
 * around); the {@code diskMB} row is MB/s.
 *
 * <ul>
 *   <li>{@code direct}: {@code FileChannel.write(buffer, offset)} on the image: the floor;</li>
 *   <li>{@code nbd}: NBD_CMD_WRITE requests through the server over {@code transport}, pipelined 16 deep as
 *       QEMU does (a reply is awaited only when 16 are in flight), the server mirroring nothing;</li>
 *   <li>{@code nbdMirrored}: the same with the primary's {@link EpochWriteLog} attached (every write
 *       copied into the open epoch), an epoch closed every 1024 writes and dropped, as the epoch loop
 *       would hand it to the sender.</li>
 * </ul>
 * No fsync anywhere (no FUA, no FLUSH): both sides write into the page cache, so the difference is the
 * server's cost (socket, decoding, replies, the mirror copy). The image lives in {@code /dev/shm}
 * ({@code -Dbench.dir=...} to change) so disk write-back stays out of the numbers. Runs on the event loop
 * thread of the server plus the benchmark thread: two cores.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class NbdWriteBenchmark {
    private static final long IMAGE_BYTES = 256L << 20;
    private static final int DEPTH = 16;
    private static final int EPOCH_WRITES = 1024;
    // NBD request header: magic u32, flags u16, type u16, cookie u64, offset u64, length u32.
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int CMD_WRITE = 1;
    private static final int REQUEST_BYTES = 28;
    private static final int REPLY_BYTES = 16;

    public enum Transport { UNIX, TCP }

    @Param({"4096", "65536"})
    public int blockBytes;

    @Param({"UNIX", "TCP"})
    public Transport transport;

    private Path dir;
    private Path image;
    private FileChannel file;
    private NbdServer server;
    private EpochWriteLog writeLog;
    private SocketChannel socket;
    private ByteBuffer data;
    private final ByteBuffer header = ByteBuffer.allocateDirect(REQUEST_BYTES);
    private final ByteBuffer reply = ByteBuffer.allocateDirect(REPLY_BYTES);
    private final ByteBuffer[] request = new ByteBuffer[2];
    private long offset;
    private int inFlight;
    private long sent;

    @Setup(Level.Trial)
    public void setUp(org.openjdk.jmh.infra.BenchmarkParams params) throws IOException {
        dir = Files.createTempDirectory(Path.of(System.getProperty("bench.dir", "/dev/shm")), "nbd-bench");
        image = dir.resolve("disk.img");
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
            raf.setLength(IMAGE_BYTES);
        }
        data = ByteBuffer.allocateDirect(blockBytes);
        byte[] random = new byte[blockBytes];
        ThreadLocalRandom.current().nextBytes(random);
        data.put(random).flip();
        String benchmark = params.getBenchmark();
        if (benchmark.endsWith(".direct")) {
            file = FileChannel.open(image, StandardOpenOption.WRITE);
            return;
        }
        WriteListener listener = WriteListener.NONE;
        if (benchmark.endsWith(".nbdMirrored")) {
            writeLog = new EpochWriteLog(1L << 30, new CompositeMeterRegistry(), Tags.empty());
            listener = writeLog;
        }
        ListenAddress address = transport == Transport.UNIX
                ? new ListenAddress.UnixSocket(dir.resolve("nbd.sock")) : ListenAddress.Tcp.loopback(0);
        server = NbdServer.start(NbdServerConfig.of("bench", image, address), listener, new CompositeMeterRegistry(),
                Tags.empty());
        socket = RawHandshake.connect(server.localAddress(), "bench");
    }

    @Benchmark
    public void direct(DiskBytes bytes) throws IOException {
        ByteBuffer src = data.duplicate();
        long at = nextOffset();
        while (src.hasRemaining()) {
            file.write(src, at + src.position());
        }
        bytes.diskMB += blockBytes / 1e6;
    }

    @Benchmark
    public void nbd(DiskBytes bytes) throws IOException {
        sendWrite();
        bytes.diskMB += blockBytes / 1e6;
    }

    @Benchmark
    public void nbdMirrored(DiskBytes bytes) throws IOException {
        sendWrite();
        if (sent % EPOCH_WRITES == 0) {
            writeLog.closeEpoch(sent);
        }
        bytes.diskMB += blockBytes / 1e6;
    }

    private long nextOffset() {
        long at = offset;
        offset = (offset + blockBytes) % IMAGE_BYTES;
        return at;
    }

    private void sendWrite() throws IOException {
        if (inFlight == DEPTH) {
            readReply();
        }
        header.clear();
        header.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_WRITE).putLong(++sent)
                .putLong(nextOffset()).putInt(blockBytes).flip();
        request[0] = header;
        request[1] = data.duplicate();
        while (request[1].hasRemaining()) {
            socket.write(request);
        }
        inFlight++;
    }

    private void readReply() throws IOException {
        reply.clear();
        while (reply.hasRemaining()) {
            if (socket.read(reply) < 0) {
                throw new IOException("server closed the connection");
            }
        }
        if (reply.getInt(4) != 0) {
            throw new IOException("write failed with NBD error " + reply.getInt(4));
        }
        inFlight--;
    }

    /** Lets the writes of one iteration finish inside it. */
    @TearDown(Level.Iteration)
    public void drain() throws IOException {
        while (inFlight > 0) {
            readReply();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (socket != null) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
        if (writeLog != null) {
            writeLog.close();
        }
        if (file != null) {
            file.close();
        }
        Files.deleteIfExists(image);
        Files.deleteIfExists(dir);
    }
}
