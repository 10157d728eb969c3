package io.checkpointd.tools.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Builds the guest image with {@code guest/build-image} and boots it under plain QEMU (TCG, no libvirt),
 * with its NIC on a {@code -netdev socket} connected to this test. The test plays the rest of the LAN: it
 * answers the guest's ARP and speaks UDP to the guest's service by building Ethernet/IPv4/UDP frames by hand,
 * then checks a SET, a GET, and the log record the SET left on the guest's disk.
 */
class GuestImageBootTest {
    private static final long BUILD_TIMEOUT_NS = TimeUnit.MINUTES.toNanos(10);
    private static final long BOOT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long RESEND_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private static final byte[] GUEST_MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    private static final byte[] TEST_MAC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
    private static final byte[] GUEST_IP = {10, 0, 0, 2};
    private static final byte[] TEST_IP = {10, 0, 0, 1};
    private static final int SERVICE_PORT = 7000;
    private static final int TEST_PORT = 40000;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_ARP = 0x0806;
    private static final int ETHERNET_HEADER_BYTES = 14;
    private static final int IPV4_HEADER_BYTES = 20;
    private static final int UDP_HEADER_BYTES = 8;
    private static final int MAX_FRAME_BYTES = 65536;

    private static final int REQUEST_BYTES = 21;
    private static final int REPLY_BYTES = 22;
    private static final byte OP_SET = 1;
    private static final byte OP_GET = 2;
    private static final long LOG_MAGIC = 0x636b70746c6f6731L; // "ckptlog1", see guest/service.c
    private static final int DISK_BYTES = 4 << 20;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void theBootedGuestAnswersSetAndGetAndLogsTheSetToItsDisk() throws Exception {
        Path repo = repositoryRoot();
        if (!"root".equals(System.getProperty("user.name"))) {
            skip("not root: guest/build-image needs to install packages");
        }
        buildImage(repo);

        Path temp = Files.createTempDirectory("guest-boot");
        Path disk = temp.resolve("disk.raw");
        Path console = temp.resolve("console.log");
        Process qemu = null;
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Files.write(disk, new byte[DISK_BYTES]);
            qemu = new ProcessBuilder(
                    "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "128", "-nographic", "-no-reboot",
                    "-kernel", repo.resolve("guest/build/vmlinuz").toString(),
                    "-initrd", repo.resolve("guest/build/initramfs.cpio.gz").toString(),
                    "-append", "console=ttyS0 panic=-1 ckpt.ip=10.0.0.2/24",
                    "-netdev", "socket,id=n0,connect=127.0.0.1:" + listener.getLocalPort(),
                    "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56",
                    "-drive", "file=" + disk + ",if=virtio,format=raw")
                    .redirectErrorStream(true)
                    .redirectOutput(console.toFile())
                    .start();

            listener.setSoTimeout((int) TimeUnit.NANOSECONDS.toMillis(BOOT_TIMEOUT_NS));
            try (Socket socket = listener.accept()) {
                Lan lan = new Lan(socket);
                long deadlineNs = System.nanoTime() + BOOT_TIMEOUT_NS;

                ByteBuffer setReply = lan.request(1, OP_SET, 42, 0x1122334455667788L, deadlineNs, console);
                assertReply(setReply, 1, OP_SET, 42, 0x1122334455667788L);

                ByteBuffer getReply = lan.request(2, OP_GET, 42, 0, System.nanoTime() + BOOT_TIMEOUT_NS, console);
                assertReply(getReply, 2, OP_GET, 42, 0x1122334455667788L);
            }
            stop(qemu);

            // The service fdatasyncs before it replies, so the record is in the image file by now.
            ByteBuffer record = ByteBuffer.wrap(Files.readAllBytes(disk), 0, 64);
            assertThat(record.getLong(0)).as("log magic").isEqualTo(LOG_MAGIC);
            assertThat(record.getLong(8)).as("log sequence").isZero();
            assertThat(record.getInt(16)).as("log key").isEqualTo(42);
            assertThat(record.getLong(20)).as("log value").isEqualTo(0x1122334455667788L);
        } finally {
            if (qemu != null) {
                stop(qemu);
            }
            try (var files = Files.list(temp)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(temp);
        }
    }

    private static void assertReply(ByteBuffer reply, long requestId, byte op, int key, long value) {
        assertThat(reply.remaining()).isEqualTo(REPLY_BYTES);
        assertThat(reply.getLong(0)).as("request id").isEqualTo(requestId);
        assertThat(reply.get(8)).as("status").isEqualTo((byte) 0);
        assertThat(reply.get(9)).as("op").isEqualTo(op);
        assertThat(reply.getInt(10)).as("key").isEqualTo(key);
        assertThat(reply.getLong(14)).as("value").isEqualTo(value);
    }

    /** The guest's LAN as seen from its socket netdev: 4-byte big-endian length, then an Ethernet frame. */
    private static final class Lan {
        private final DataOutputStream out;
        private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();

        Lan(Socket socket) throws IOException {
            out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            // Reading on its own thread: a read timeout in the middle of a frame would lose the framing.
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        int length = in.readInt();
                        if (length <= 0 || length > MAX_FRAME_BYTES) {
                            return;
                        }
                        byte[] frame = new byte[length];
                        in.readFully(frame);
                        received.add(frame);
                    }
                } catch (EOFException e) {
                    // QEMU went away.
                } catch (IOException e) {
                    // The socket was closed by the test.
                }
            }, "guest-lan-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /**
         * Sends the request every second until its reply arrives: requests sent before the guest has
         * configured eth0 and started the service are dropped.
         */
        ByteBuffer request(long requestId, byte op, int key, long value, long deadlineNs, Path console)
                throws IOException, InterruptedException {
            ByteBuffer payload = ByteBuffer.allocate(REQUEST_BYTES)
                    .putLong(requestId).put(op).putInt(key).putLong(value);
            byte[] frame = udpFrame(payload.array());
            long nextSendNs = System.nanoTime();
            while (true) {
                long nowNs = System.nanoTime();
                if (deadlineNs - nowNs < 0) {
                    throw new AssertionError("no reply to request " + requestId + " within the deadline; console:\n"
                            + consoleTail(console));
                }
                if (nextSendNs - nowNs <= 0) {
                    send(frame);
                    nextSendNs = nowNs + RESEND_INTERVAL_NS;
                }
                byte[] received = this.received.poll(100, TimeUnit.MILLISECONDS);
                if (received == null) {
                    continue;
                }
                ByteBuffer reply = handle(ByteBuffer.wrap(received));
                if (reply != null && reply.getLong(0) == requestId) {
                    return reply;
                }
            }
        }

        /** Answers ARP for the test's address; returns the service's UDP payload, or null for anything else. */
        private ByteBuffer handle(ByteBuffer frame) throws IOException {
            if (frame.remaining() < ETHERNET_HEADER_BYTES) {
                return null;
            }
            int etherType = frame.getShort(12) & 0xffff;
            if (etherType == ETHERTYPE_ARP && frame.remaining() >= ETHERNET_HEADER_BYTES + 28) {
                int arp = ETHERNET_HEADER_BYTES;
                boolean isRequest = frame.getShort(arp + 6) == 1;
                if (isRequest && matches(frame, arp + 24, TEST_IP)) {
                    send(arpReply(frame, arp));
                }
                return null;
            }
            if (etherType != ETHERTYPE_IPV4 || frame.remaining() < ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES) {
                return null;
            }
            int ip = ETHERNET_HEADER_BYTES;
            int ipHeaderBytes = (frame.get(ip) & 0x0f) * 4;
            int udp = ip + ipHeaderBytes;
            if (frame.get(ip + 9) != 17 || frame.remaining() < udp + UDP_HEADER_BYTES) {
                return null;
            }
            if ((frame.getShort(udp) & 0xffff) != SERVICE_PORT || (frame.getShort(udp + 2) & 0xffff) != TEST_PORT) {
                return null;
            }
            int payloadBytes = (frame.getShort(udp + 4) & 0xffff) - UDP_HEADER_BYTES;
            if (payloadBytes != REPLY_BYTES || frame.remaining() < udp + UDP_HEADER_BYTES + payloadBytes) {
                return null;
            }
            return frame.slice(udp + UDP_HEADER_BYTES, payloadBytes);
        }

        private void send(byte[] frame) throws IOException {
            out.writeInt(frame.length);
            out.write(frame);
            out.flush();
        }

        private static boolean matches(ByteBuffer frame, int offset, byte[] expected) {
            for (int i = 0; i < expected.length; i++) {
                if (frame.get(offset + i) != expected[i]) {
                    return false;
                }
            }
            return true;
        }

        private static byte[] arpReply(ByteBuffer request, int arp) {
            byte[] senderMac = new byte[6];
            byte[] senderIp = new byte[4];
            request.get(arp + 8, senderMac);
            request.get(arp + 14, senderIp);
            ByteBuffer reply = ByteBuffer.allocate(ETHERNET_HEADER_BYTES + 28);
            reply.put(senderMac).put(TEST_MAC).putShort((short) ETHERTYPE_ARP);
            reply.putShort((short) 1).putShort((short) ETHERTYPE_IPV4).put((byte) 6).put((byte) 4).putShort((short) 2);
            reply.put(TEST_MAC).put(TEST_IP).put(senderMac).put(senderIp);
            return reply.array();
        }

        private static byte[] udpFrame(byte[] payload) {
            int ipTotalBytes = IPV4_HEADER_BYTES + UDP_HEADER_BYTES + payload.length;
            ByteBuffer frame = ByteBuffer.allocate(ETHERNET_HEADER_BYTES + ipTotalBytes);
            frame.put(GUEST_MAC).put(TEST_MAC).putShort((short) ETHERTYPE_IPV4);
            int ip = frame.position();
            frame.put((byte) 0x45).put((byte) 0).putShort((short) ipTotalBytes)
                    .putShort((short) 0).putShort((short) 0x4000) // id 0, don't fragment
                    .put((byte) 64).put((byte) 17).putShort((short) 0) // ttl, UDP, checksum filled below
                    .put(TEST_IP).put(GUEST_IP);
            frame.putShort(ip + 10, ipv4Checksum(frame, ip));
            // A zero UDP checksum means "none" over IPv4, which Linux accepts.
            frame.putShort((short) TEST_PORT).putShort((short) SERVICE_PORT)
                    .putShort((short) (UDP_HEADER_BYTES + payload.length)).putShort((short) 0)
                    .put(payload);
            return frame.array();
        }

        private static short ipv4Checksum(ByteBuffer frame, int ip) {
            int sum = 0;
            for (int i = 0; i < IPV4_HEADER_BYTES; i += 2) {
                sum += frame.getShort(ip + i) & 0xffff;
            }
            while ((sum >>> 16) != 0) {
                sum = (sum & 0xffff) + (sum >>> 16);
            }
            return (short) ~sum;
        }
    }

    private static void buildImage(Path repo) throws IOException, InterruptedException {
        Process build = new ProcessBuilder(repo.resolve("guest/build-image").toString())
                .directory(repo.toFile())
                .redirectErrorStream(true)
                .start();
        List<String> lines = new ArrayList<>();
        try (var reader = build.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                System.err.println(line);
                lines.add(line);
            }
        }
        if (!build.waitFor(BUILD_TIMEOUT_NS, TimeUnit.NANOSECONDS)) {
            build.destroyForcibly();
            throw new AssertionError("guest/build-image did not finish in time");
        }
        if (build.exitValue() != 0) {
            String output = String.join("\n", lines);
            // Lack of network or packages is the machine's limit, not the image's fault; anything else fails.
            if (output.contains("network or apt") || output.contains("apt-get update") || output.contains("install")) {
                skip("guest/build-image could not get what it needs: " + lines.getLast());
            }
            throw new AssertionError("guest/build-image failed:\n" + output);
        }
    }

    private static void stop(Process qemu) throws InterruptedException {
        qemu.destroy();
        if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String consoleTail(Path console) {
        try {
            List<String> lines = Files.readAllLines(console, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(console unreadable: " + e + ")";
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isExecutable(dir.resolve("guest/build-image"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            skip("guest/build-image not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    private static void skip(String reason) {
        System.err.println("SKIPPED GuestImageBootTest: " + reason);
        Assumptions.abort(reason);
    }
}
