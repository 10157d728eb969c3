package io.checkpointd.netbuffer.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bridge between a real tap, moved into a network namespace that stands for the outside world, and a
 * fake QEMU guest on its TCP port.
 */
class FrameBridgeTest {
    private static final long WAIT_MS = 3_000;
    private static final int GUEST_PORT = 7000;

    private BridgeLab lab;

    @BeforeAll
    static void needsTapsAndNamespaces() {
        RealNetwork.assumeAvailable("FrameBridgeTest");
    }

    @BeforeEach
    void startLab() throws Exception {
        lab = BridgeLab.start();
    }

    @AfterEach
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void udpFromTheNamespaceReachesTheGuestAndItsReplyComesBack() throws Exception {
        lab.forwardToTap = true;
        try (FakeGuest guest = lab.connectGuest();
             DatagramChannel host = lab.netns.openUdp(new InetSocketAddress(lab.hostIp, 0))) {
            awaitGuestConnected(true);
            host.send(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)),
                    new InetSocketAddress(lab.guestIp, GUEST_PORT));

            byte[] frame = guest.await(f -> {
                Packets.Udp udp = Packets.parseUdp(f);
                return udp != null && udp.destination().equals(lab.guestIp);
            }, WAIT_MS);
            Packets.Udp ping = Packets.parseUdp(frame);
            assertThat(ping.source()).isEqualTo(lab.hostIp);
            assertThat(ping.destinationPort()).isEqualTo(GUEST_PORT);
            assertThat(new String(ping.payload(), StandardCharsets.US_ASCII)).isEqualTo("ping");

            guest.send(Packets.udp(Packets.sourceMac(frame), lab.guestMac,
                    ping.reply("pong".getBytes(StandardCharsets.US_ASCII))));
            DatagramPacket reply = receive(host);
            assertThat(text(reply)).isEqualTo("pong");
            assertThat(reply.getSocketAddress()).isEqualTo(new InetSocketAddress(lab.guestIp, GUEST_PORT));
        }
        BridgeCounters counters = lab.bridge().counters();
        assertThat(counters.toGuestFrames()).as("the ARP request and the ping at least").isGreaterThanOrEqualTo(2);
        assertThat(counters.fromGuestFrames()).as("the ARP reply and the pong").isGreaterThanOrEqualTo(2);
        // Counted once the tap write completes, on the bridge's loop: the host may read the pong a moment before.
        long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (counters.toTapFrames() != counters.fromGuestFrames() && System.nanoTime() - deadlineNs < 0) {
            Thread.sleep(5);
        }
        assertThat(counters.toTapFrames()).isEqualTo(counters.fromGuestFrames());
        assertThat(counters.toTapDroppedFrames()).isZero();
    }

    @Test
    void framesFromTheTapWithNoGuestConnectedAreDroppedAndCounted() throws Exception {
        try (DatagramChannel host = lab.netns.openUdp(new InetSocketAddress(lab.hostIp, 0))) {
            // The host has to resolve the guest's address first: its ARP request reaches the bridge.
            host.send(ByteBuffer.wrap(new byte[] {1}), new InetSocketAddress(lab.guestIp, GUEST_PORT));
            RealNetwork.await("a dropped frame", WAIT_MS, () -> lab.bridge().counters().toGuestDroppedFrames() > 0);
        }
        assertThat(lab.bridge().counters().toGuestFrames()).isZero();
    }

    @Test
    void guestFramesGoToTheConsumerAndReachTheTapOnlyWhenSentThere() throws Exception {
        try (FakeGuest guest = lab.connectGuest();
             DatagramChannel host = lab.netns.openUdp(new InetSocketAddress(lab.hostIp, 0))) {
            int hostPort = ((InetSocketAddress) host.getLocalAddress()).getPort();
            byte[] frame = Packets.udp(lab.hostMac(), lab.guestMac, new Packets.Udp(lab.guestIp, GUEST_PORT,
                    lab.hostIp, hostPort, "held".getBytes(StandardCharsets.US_ASCII)));
            guest.send(frame);

            byte[] handedOver = lab.fromGuest.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertThat(handedOver).isEqualTo(frame);
            host.configureBlocking(false);
            assertThat(host.receive(ByteBuffer.allocate(64))).as("held, not written to the tap").isNull();
            assertThat(lab.bridge().counters().toTapFrames()).isZero();

            lab.bridge().sendToTap(Unpooled.wrappedBuffer(handedOver));
            host.configureBlocking(true);
            assertThat(text(receive(host))).isEqualTo("held");
            // The kernel delivers during the tap write, before the loop counts it.
            RealNetwork.await("the write counted", WAIT_MS, () -> lab.bridge().counters().toTapFrames() == 1);
            assertThat(lab.bridge().counters().toTapBytes()).isEqualTo(frame.length);
        }
    }

    @Test
    void framesInAnyKindOfBufferReachTheTapFromTheirReaderIndex() throws Exception {
        try (DatagramChannel host = lab.netns.openUdp(new InetSocketAddress(lab.hostIp, 0))) {
            int hostPort = ((InetSocketAddress) host.getLocalAddress()).getPort();
            byte[] hostMac = lab.hostMac();
            for (String kind : new String[] {"heap", "direct", "composite"}) {
                byte[] frame = Packets.udp(hostMac, lab.guestMac, new Packets.Udp(lab.guestIp, GUEST_PORT,
                        lab.hostIp, hostPort, kind.getBytes(StandardCharsets.US_ASCII)));
                ByteBuf buffer = switch (kind) {
                    case "heap" -> Unpooled.buffer().writeZero(3).writeBytes(frame).skipBytes(3);
                    case "direct" -> Unpooled.directBuffer().writeZero(5).writeBytes(frame).skipBytes(5);
                    default -> Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(frame, 0, 20),
                            Unpooled.directBuffer().writeBytes(frame, 20, frame.length - 20));
                };
                lab.bridge().sendToTap(buffer);

                assertThat(text(receive(host))).isEqualTo(kind);
            }
        }
    }

    @Test
    void announceTeachesTheNamespaceWhereTheGuestsAddressLives() throws Exception {
        lab.netns.exec("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_accept=1",
                "net.ipv4.conf." + lab.tapName + ".arp_accept=1");
        String announcedIp = lab.hostIp.getHostAddress().replaceAll("\\.1$", ".3");
        String mac = ArpFrames.formatMac(lab.guestMac);

        lab.bridge().announce(lab.guestMac, Packets.ip(announcedIp));

        RealNetwork.await("a neighbour entry for " + announcedIp + " at " + mac, WAIT_MS,
                () -> lab.netns.ip("neigh", "show", announcedIp, "dev", lab.tapName).contains("lladdr " + mac));
        RealNetwork.await("the write counted", WAIT_MS, () -> lab.bridge().counters().toTapFrames() == 1);
        assertThatThrownBy(() -> lab.bridge().announce(new byte[] {1, 0, 0x5e, 0, 0, 1}, Packets.ip(announcedIp)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multicast");
    }

    @Test
    void aBadFrameLengthClosesThatConnectionAndTheBridgeTakesTheNext() throws Exception {
        byte[] zeroLength = {0, 0, 0, 0};
        byte[] oversized = ByteBuffer.allocate(4).putInt(QemuFraming.MAX_FRAME_BYTES + 1).array();
        byte[] negative = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        for (byte[] badLength : new byte[][] {zeroLength, oversized, negative}) {
            try (FakeGuest guest = lab.connectGuest()) {
                guest.sendRaw(badLength);
                guest.sendRaw(new byte[64]);
                assertThat(guest.awaitClosedByBridge(WAIT_MS)).as("closed after length %s", Arrays.toString(badLength))
                        .isTrue();
            }
        }
        try (FakeGuest guest = lab.connectGuest()) {
            byte[] frame = Packets.udp(lab.hostMac(), lab.guestMac, new Packets.Udp(lab.guestIp, GUEST_PORT,
                    lab.hostIp, 9, new byte[] {42}));
            guest.send(frame);
            assertThat(lab.fromGuest.poll(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(frame);
        }
        assertThat(lab.fromGuest).isEmpty();
    }

    @Test
    void aSecondGuestConnectionIsRefusedAndAReconnectIsAccepted() throws Exception {
        byte[] frame = Packets.udp(lab.hostMac(), lab.guestMac, new Packets.Udp(lab.guestIp, GUEST_PORT,
                lab.hostIp, 9, new byte[] {7}));
        try (FakeGuest first = lab.connectGuest()) {
            awaitGuestConnected(true);
            try (FakeGuest second = lab.connectGuest()) {
                assertThat(second.awaitClosedByBridge(WAIT_MS)).as("second connection refused").isTrue();
            }
            first.send(frame);
            assertThat(lab.fromGuest.poll(WAIT_MS, TimeUnit.MILLISECONDS)).as("the first still works").isEqualTo(frame);
        }
        awaitGuestConnected(false);
        try (FakeGuest restored = lab.connectGuest()) {
            awaitGuestConnected(true);
            restored.send(frame);
            assertThat(lab.fromGuest.poll(WAIT_MS, TimeUnit.MILLISECONDS)).isEqualTo(frame);
        }
    }

    @Test
    void closeIsPromptEndsTheGuestConnectionAndRemovesTheTap() throws Exception {
        try (FakeGuest guest = lab.connectGuest()) {
            awaitGuestConnected(true);
            long startNs = System.nanoTime();
            lab.bridge().close();
            long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);

            assertThat(closeMs).as("close took %d ms", closeMs).isLessThan(1_000);
            assertThat(guest.awaitClosedByBridge(WAIT_MS)).isTrue();
            assertThat(RealNetwork.linkExists(lab.tapName, "-n", lab.netns.name())).as("non-persistent tap removed")
                    .isFalse();
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("tap-reader-" + lab.tapName));
        }
    }

    @Test
    void listensOnLoopbackOnlyAndClosesTheTapItWasGivenWhenStartFails() throws Exception {
        String name = RealNetwork.uniqueName("cpbtap");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            TapDevice tap = TapDevice.open(name);
            assertThatThrownBy(() -> FrameBridge.start(tap, group.next(), new InetSocketAddress("0.0.0.0", 0),
                    frame -> frame.release()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
            assertThat(RealNetwork.linkExists(name)).isFalse();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static DatagramPacket receive(DatagramChannel host) throws IOException {
        host.socket().setSoTimeout((int) WAIT_MS);
        DatagramPacket packet = new DatagramPacket(new byte[64], 64);
        host.socket().receive(packet);
        return packet;
    }

    private static String text(DatagramPacket packet) {
        return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.US_ASCII);
    }

    private void awaitGuestConnected(boolean connected) throws InterruptedException {
        RealNetwork.await("guestConnected() == " + connected, WAIT_MS, () -> lab.bridge().guestConnected() == connected);
    }
}
