package io.checkpointd.disk.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A deliberately plain NBD client over a JDK socket (unix or TCP), able to send what no real client would.
 * Every method writes or reads exactly the bytes its name says; nothing is checked unless the name says so.
 */
final class RawNbdClient implements AutoCloseable {
    private final SocketChannel channel;
    private final DataInputStream in;
    private final DataOutputStream out;

    private RawNbdClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16));
    }

    static RawNbdClient connect(SocketAddress address) throws IOException {
        return new RawNbdClient(SocketChannel.open(address));
    }

    /** Connects, reads the greeting, sends fixed-newstyle + no-zeroes flags and NBD_OPT_GO for {@code name}. */
    static RawNbdClient open(SocketAddress address, String name) throws IOException {
        RawNbdClient client = connect(address);
        client.readGreeting();
        client.sendClientFlags(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES);
        client.sendOption(Nbd.OPT_GO, goData(name));
        client.readInfoUntilAck(Nbd.OPT_GO);
        return client;
    }

    void readGreeting() throws IOException {
        assertThat(in.readLong()).isEqualTo(Nbd.NBDMAGIC);
        assertThat(in.readLong()).isEqualTo(Nbd.IHAVEOPT);
        assertThat(in.readUnsignedShort()).isEqualTo(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    }

    void sendClientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    void sendOption(int code, byte[] data) throws IOException {
        sendOptionHeader(Nbd.IHAVEOPT, code, data.length);
        send(data);
    }

    void sendOptionHeader(long magic, int code, long length) throws IOException {
        out.writeLong(magic);
        out.writeInt(code);
        out.writeInt((int) length);
        out.flush();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** NBD_OPT_GO / INFO data asking for no particular information. */
    static byte[] goData(String name, int... infoRequests) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(4 + bytes.length + 2 + 2 * infoRequests.length);
        data.putInt(bytes.length).put(bytes).putShort((short) infoRequests.length);
        for (int request : infoRequests) {
            data.putShort((short) request);
        }
        return data.array();
    }

    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    OptionReply readOptionReply() throws IOException {
        assertThat(in.readLong()).isEqualTo(Nbd.OPTION_REPLY_MAGIC);
        int option = in.readInt();
        int type = in.readInt();
        int length = in.readInt();
        assertThat(length).isBetween(0, 1 << 16);
        byte[] data = new byte[length];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Reads NBD_REP_INFO replies up to the final ACK; returns the INFO_EXPORT data (size u64, flags u16). */
    java.nio.ByteBuffer readInfoUntilAck(int option) throws IOException {
        java.nio.ByteBuffer export = null;
        while (true) {
            OptionReply reply = readOptionReply();
            assertThat(reply.option()).isEqualTo(option);
            if (reply.type() == Nbd.REP_ACK) {
                assertThat(export).as("NBD_INFO_EXPORT before the ACK").isNotNull();
                return export;
            }
            assertThat(reply.type()).as("reply type (%s)", reply.text()).isEqualTo(Nbd.REP_INFO);
            java.nio.ByteBuffer info = java.nio.ByteBuffer.wrap(reply.data());
            if (info.getShort() == Nbd.INFO_EXPORT) {
                export = info.slice();
            }
        }
    }

    void sendRequest(int flags, int type, long cookie, long offset, long length) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    void sendWrite(int flags, long cookie, long offset, byte[] data) throws IOException {
        sendRequest(flags, Nbd.CMD_WRITE, cookie, offset, data.length);
        send(data);
    }

    record SimpleReply(int error, long cookie, byte[] data) {
    }

    /** Reads a simple reply; {@code readLength} bytes of data follow it if its error is 0. */
    SimpleReply readReply(int readLength) throws IOException {
        assertThat(in.readInt()).as("simple reply magic").isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
        int error = in.readInt();
        long cookie = in.readLong();
        byte[] data = new byte[error == 0 ? readLength : 0];
        in.readFully(data);
        return new SimpleReply(error, cookie, data);
    }

    byte[] readRaw(int bytes) throws IOException {
        byte[] data = new byte[bytes];
        in.readFully(data);
        return data;
    }

    /** Reads until the server closes the connection (an end of stream or a reset). */
    void assertClosedByServer() {
        try {
            while (in.read() >= 0) {
                // Whatever the server sent before closing is not what this checks.
            }
        } catch (EOFException e) {
            return;
        } catch (IOException e) {
            assertThat(e).hasMessageContaining("reset");
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
