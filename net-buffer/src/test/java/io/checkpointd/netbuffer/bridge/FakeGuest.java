package io.checkpointd.netbuffer.bridge;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What QEMU and a guest look like to the bridge: a TCP connection speaking {@link QemuFraming}, and a guest
 * with a MAC and an IP that answers ARP requests for its IP while it waits for something else.
 */
final class FakeGuest implements AutoCloseable {
    private static final int READ_SLICE_MS = 50;

    final byte[] mac;
    final Inet4Address ip;
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private FakeGuest(byte[] mac, Inet4Address ip, Socket socket) throws IOException {
        this.mac = mac;
        this.ip = ip;
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    static FakeGuest connect(InetSocketAddress bridge, byte[] mac, Inet4Address ip) throws IOException {
        Socket socket = new Socket();
        socket.connect(bridge, 5_000);
        socket.setSoTimeout(READ_SLICE_MS);
        return new FakeGuest(mac, ip, socket);
    }

    /** Sends one frame, framed as QEMU does. */
    void send(byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
    }

    /** Sends bytes as they are, framing or not. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * Reads frames until one matches, answering ARP requests for {@link #ip} on the way.
     *
     * @throws AssertionError if none matches within {@code timeoutMs} or the bridge closes the connection
     */
    byte[] await(Predicate<byte[]> wanted, long timeoutMs) throws IOException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (deadlineNs - System.nanoTime() > 0) {
            byte[] frame = readFrame();
            if (frame == null) {
                continue;
            }
            if (wanted.test(frame)) {
                return frame;
            }
            if (Packets.isArpRequestFor(frame, ip)) {
                send(Packets.arpReply(frame, mac));
            }
        }
        throw new AssertionError("no matching frame within " + timeoutMs + " ms");
    }

    /** True once the bridge has closed the connection, within {@code timeoutMs}; frames before are skipped. */
    boolean awaitClosedByBridge(long timeoutMs) throws IOException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (deadlineNs - System.nanoTime() > 0) {
            try {
                readFrame();
            } catch (EOFException e) {
                return true;
            }
        }
        return false;
    }

    /** The next frame, or null if none arrived within a read slice. */
    private byte[] readFrame() throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (SocketTimeoutException e) {
            return null;
        }
        if (length <= 0 || length > QemuFraming.MAX_FRAME_BYTES) {
            throw new AssertionError("the bridge sent a frame length of " + length);
        }
        byte[] frame = new byte[length];
        socket.setSoTimeout(5_000); // a frame's bytes follow its length at once
        try {
            in.readFully(frame);
        } finally {
            socket.setSoTimeout(READ_SLICE_MS);
        }
        return frame;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
