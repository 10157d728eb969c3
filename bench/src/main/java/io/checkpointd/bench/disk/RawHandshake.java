package io.checkpointd.bench.disk;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The client side of the NBD fixed newstyle handshake, just enough for a benchmark: greeting, client flags,
 * NBD_OPT_GO, replies up to the ACK. Checks nothing a correct server would get wrong, except the magics.
 */
final class RawHandshake {
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    private static final int OPT_GO = 7;
    private static final int REP_ACK = 1;
    private static final int CLIENT_FLAGS = 0b11; // fixed newstyle, no zeroes

    private RawHandshake() {
    }

    /** A blocking socket in the transmission phase of export {@code name}. */
    static SocketChannel connect(SocketAddress address, String name) throws IOException {
        SocketChannel socket = SocketChannel.open(address);
        ByteBuffer greeting = readFully(socket, 18);
        if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
            throw new IOException("not an NBD server");
        }
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer go = ByteBuffer.allocate(4 + 16 + 4 + bytes.length + 2);
        go.putInt(CLIENT_FLAGS).putLong(IHAVEOPT).putInt(OPT_GO).putInt(4 + bytes.length + 2).putInt(bytes.length)
                .put(bytes).putShort((short) 0).flip();
        while (go.hasRemaining()) {
            socket.write(go);
        }
        while (true) {
            ByteBuffer header = readFully(socket, 20);
            if (header.getLong() != OPTION_REPLY_MAGIC) {
                throw new IOException("bad option reply");
            }
            header.getInt();
            int type = header.getInt();
            readFully(socket, header.getInt());
            if (type == REP_ACK) {
                return socket;
            }
            if (type < 0) {
                throw new IOException("NBD_OPT_GO failed with reply type " + type);
            }
        }
    }

    private static ByteBuffer readFully(SocketChannel socket, int bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(bytes);
        while (buffer.hasRemaining()) {
            if (socket.read(buffer) < 0) {
                throw new IOException("server closed the connection");
            }
        }
        return buffer.flip();
    }
}
