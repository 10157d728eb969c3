package io.checkpointd.libvirt;

import io.checkpointd.util.NanoClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The unix socket QEMU's device-only migration is sent to each epoch: accepts one connection and reads it
 * to EOF; those bytes are the device state. The socket belongs to QEMU's user (QEMU runs as
 * {@code libvirt-qemu}, not root) with mode 0600, so only QEMU and root can connect.
 *
 * <p>Threading: called by the epoch loop thread only. QEMU blocks once the socket buffer is full (a
 * device state is several times larger), so {@link #startReceive} reads on a reader thread of this
 * socket's own while the epoch loop scans and copies RAM; the buffers and selectors belong to that thread
 * while a receive is under way and are handed back with its result ({@link #awaitReceived}).
 */
final class DeviceStateSocket implements AutoCloseable {
    /** Bound on one device state: a small guest's is about 300 KB; more than this is not a device state. */
    static final int MAX_DEVICE_STATE_BYTES = 64 << 20;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    // This runs inside the guest's pause: the buffers and the read selector are made once, not per epoch.
    private final Selector reads;
    private final ByteBuffer chunk = ByteBuffer.allocate(256 << 10);
    private final ByteArrayOutputStream received = new ByteArrayOutputStream(1 << 20);
    private final NanoClock clock;
    private final ExecutorService reader;
    private Future<byte[]> pending; // the receive under way on the reader thread, or null
    private volatile boolean cancelled;

    private DeviceStateSocket(Path path, ServerSocketChannel server, Selector selector, Selector reads,
                              NanoClock clock) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.reads = reads;
        this.clock = clock;
        this.reader = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
                .name("device-state-reader-" + path.getParent().getFileName()).factory());
    }

    static DeviceStateSocket bind(Path path, String owner, NanoClock clock) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            QemuSockets.handToQemu(path, owner);
            server.configureBlocking(false);
            Selector selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            return new DeviceStateSocket(path, server, selector, Selector.open(), clock);
        } catch (IOException e) {
            server.close();
            Files.deleteIfExists(path);
            throw new IOException("cannot listen for device state at " + path + " as user '" + owner + "': "
                    + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    /**
     * Starts {@link #receive} on the reader thread and returns at once; {@link #awaitReceived} (or a
     * {@link #cancelReceive} and then it) must follow before the next start.
     */
    void startReceive(long timeoutNs) {
        if (pending != null) {
            throw new IllegalStateException(path + ": a device state is already being received");
        }
        cancelled = false;
        pending = reader.submit(() -> receive(timeoutNs));
    }

    /** The state {@link #startReceive} received; rethrows its failure. Never longer than its timeout. */
    byte[] awaitReceived() throws IOException {
        Future<byte[]> receiving = pending;
        if (receiving == null) {
            throw new IllegalStateException(path + ": no device state is being received");
        }
        pending = null;
        try {
            return receiving.get(); // bounded: receive has its own deadline
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("receiving the device state at " + path + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelReceive();
            throw new IOException("interrupted while receiving the device state at " + path, e);
        }
    }

    /** Makes the receive under way give up at once: nothing will connect (QEMU refused the migration). */
    void cancelReceive() {
        cancelled = true;
        selector.wakeup();
        reads.wakeup();
    }

    /** Waits for QEMU's connection and reads it to EOF; throws if nothing comes within {@code timeoutNs}. */
    byte[] receive(long timeoutNs) throws IOException {
        long deadlineNs = clock.nanoTime() + timeoutNs;
        SocketChannel connection = null;
        while (connection == null) {
            throwIfCancelled();
            long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - clock.nanoTime());
            if (leftMs <= 0) {
                throw new IOException("QEMU did not connect to " + path + " within "
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
            }
            selector.select(leftMs);
            selector.selectedKeys().clear();
            connection = server.accept();
        }
        try (SocketChannel c = connection) {
            c.configureBlocking(false);
            SelectionKey key = c.register(reads, SelectionKey.OP_READ);
            try {
                readToEnd(c, deadlineNs, timeoutNs);
            } finally {
                key.cancel();
                reads.selectNow(); // deregisters the cancelled key before the channel closes
            }
        }
        return received.toByteArray();
    }

    private void readToEnd(SocketChannel c, long deadlineNs, long timeoutNs) throws IOException {
        received.reset();
        while (true) {
            chunk.clear();
            int n = c.read(chunk);
            if (n < 0) {
                break;
            }
            if (n == 0) {
                throwIfCancelled();
                long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - clock.nanoTime());
                if (leftMs <= 0) {
                    throw new IOException("device state from QEMU incomplete after "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms (" + received.size() + " bytes)");
                }
                reads.select(leftMs);
                reads.selectedKeys().clear();
                continue;
            }
            if (received.size() + n > MAX_DEVICE_STATE_BYTES) {
                throw new IOException("device state from QEMU exceeds " + (MAX_DEVICE_STATE_BYTES >> 20) + " MiB");
            }
            received.write(chunk.array(), 0, n);
        }
    }

    private void throwIfCancelled() throws IOException {
        if (cancelled) {
            throw new IOException("receiving the device state at " + path + " was cancelled");
        }
    }

    @Override
    public void close() {
        cancelReceive();
        reader.shutdown();
        try {
            if (!reader.awaitTermination(5, TimeUnit.SECONDS)) {
                reader.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            selector.close();
            reads.close();
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Closing at shutdown: nothing left to protect.
        }
    }
}
