package io.checkpointd.libvirt;

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
import java.util.concurrent.TimeUnit;

/**
 * The unix socket QEMU's device-only migration is sent to each epoch: accepts one connection and reads it
 * to EOF; those bytes are the device state. The socket belongs to QEMU's user (QEMU runs as
 * {@code libvirt-qemu}, not root) with mode 0600, so only QEMU and root can connect.
 *
 * <p>Used by the epoch loop thread only.
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

    private DeviceStateSocket(Path path, ServerSocketChannel server, Selector selector, Selector reads) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.reads = reads;
    }

    static DeviceStateSocket bind(Path path, String owner) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            QemuSockets.handToQemu(path, owner);
            server.configureBlocking(false);
            Selector selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            return new DeviceStateSocket(path, server, selector, Selector.open());
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

    /** Waits for QEMU's connection and reads it to EOF; throws if nothing comes within {@code timeoutNs}. */
    byte[] receive(long timeoutNs) throws IOException {
        long deadlineNs = System.nanoTime() + timeoutNs;
        SocketChannel connection = null;
        while (connection == null) {
            long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
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
                long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
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

    @Override
    public void close() {
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
