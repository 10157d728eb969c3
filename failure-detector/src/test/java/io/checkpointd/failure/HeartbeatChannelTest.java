package io.checkpointd.failure;

import static io.checkpointd.failure.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/** Real UDP on loopback, real clock; every wait is bounded and polls rather than sleeping a fixed time. */
class HeartbeatChannelTest {
    private static final String LOOPBACK = "127.0.0.1";
    private static final long MS = 1_000_000;
    private static final long INTERVAL_NS = 20 * MS;
    private static final long TOKEN = 0x5EC7E7L;
    private static final Duration LIMIT = Duration.ofSeconds(5);

    record Received(long nowNs, long sequence, long rttNs) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable closeable : closeables.reversed()) {
            closeable.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private HeartbeatChannel open(long token, HeartbeatChannel.Listener listener) {
        HeartbeatChannel channel = HeartbeatChannel.open(group, LOOPBACK, 0, INTERVAL_NS, token, System::nanoTime, listener);
        closeables.add(channel);
        return channel;
    }

    private static HeartbeatChannel.Listener recordInto(Queue<Received> queue) {
        return (nowNs, sequence, rttNs) -> queue.add(new Received(nowNs, sequence, rttNs));
    }

    private static InetSocketAddress at(HeartbeatChannel channel) {
        return new InetSocketAddress(LOOPBACK, channel.localPort());
    }

    @Test
    void heartbeatsFlowBothWaysAndRoundTripsFollowOnceEchoesArrive() {
        Queue<Received> atA = new ConcurrentLinkedQueue<>();
        Queue<Received> atB = new ConcurrentLinkedQueue<>();
        HeartbeatChannel a = open(TOKEN, recordInto(atA));
        HeartbeatChannel b = open(TOKEN, recordInto(atB));
        assertThat(a.localPort()).isPositive().isNotEqualTo(b.localPort());

        a.setPeer(at(b));
        b.setPeer(at(a));

        await("round trips measured on both sides", LIMIT,
                () -> atA.stream().anyMatch(r -> r.rttNs() >= 0) && atB.stream().anyMatch(r -> r.rttNs() >= 0));
        for (Queue<Received> side : List.of(atA, atB)) {
            List<Received> beats = List.copyOf(side);
            assertThat(beats.getFirst().sequence()).as("the first heartbeat is lost to nobody on loopback").isEqualTo(1);
            assertThat(beats).extracting(Received::sequence).isSorted();
            // Loopback: well under one interval once the hold time is taken out.
            assertThat(beats).extracting(Received::rttNs).filteredOn(rtt -> rtt >= 0)
                    .allSatisfy(rtt -> assertThat(rtt).isLessThan(INTERVAL_NS));
            assertThat(beats).extracting(Received::rttNs).allSatisfy(rtt -> assertThat(rtt).isGreaterThanOrEqualTo(-1));
        }
        assertThat(a.rejectedDatagrams()).isZero();
        assertThat(b.rejectedDatagrams()).isZero();
    }

    @Test
    void anotherSessionTokenIsRejectedAndCountedUntilBothAgree() {
        Queue<Received> atA = new ConcurrentLinkedQueue<>();
        HeartbeatChannel a = open(TOKEN, recordInto(atA));
        HeartbeatChannel stranger = open(TOKEN + 1, (nowNs, sequence, rttNs) -> { });
        stranger.setPeer(at(a));

        await("three heartbeats rejected", LIMIT, () -> a.rejectedDatagrams() >= 3);
        assertThat(atA).isEmpty();

        a.setSessionToken(TOKEN + 1);
        await("heartbeats accepted under the new token", LIMIT, () -> !atA.isEmpty());
    }

    @Test
    void garbageIsCountedAndIgnoredAndTheSocketKeepsWorking() throws IOException {
        Queue<Received> atA = new ConcurrentLinkedQueue<>();
        HeartbeatChannel a = open(TOKEN, recordInto(atA));
        ByteBuf valid = Unpooled.buffer(HeartbeatDatagram.LENGTH);
        new HeartbeatDatagram(TOKEN, 1, 1_000, 0, 0).encodeInto(valid, null);
        byte[] good = ByteBufUtil.getBytes(valid);
        valid.release();

        byte[] badMagic = good.clone();
        badMagic[HeartbeatDatagram.MAGIC_OFFSET] = 'X';
        byte[] badVersion = good.clone();
        badVersion[HeartbeatDatagram.VERSION_OFFSET] = 9;
        byte[] oneLonger = Arrays.copyOf(good, HeartbeatDatagram.LENGTH + 1);
        List<byte[]> garbage = List.of(
                new byte[] {1},
                Arrays.copyOf(good, HeartbeatDatagram.LENGTH - 1),
                badMagic,
                badVersion,
                oneLonger,
                new byte[4_000]);

        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(LOOPBACK))) {
            InetSocketAddress target = at(a);
            for (byte[] bytes : garbage) {
                socket.send(new DatagramPacket(bytes, bytes.length, target));
            }
            await("all garbage counted", LIMIT, () -> a.rejectedDatagrams() == garbage.size());
            assertThat(atA).isEmpty();

            socket.send(new DatagramPacket(good, good.length, target));
            await("a valid heartbeat after the garbage", LIMIT, () -> !atA.isEmpty());
        }
        assertThat(atA).singleElement().extracting(Received::sequence).isEqualTo(1L);
        assertThat(a.rejectedDatagrams()).isEqualTo(garbage.size());
    }

    @Test
    void thePeerIsDeadOnceItsChannelCloses() {
        long suspectAfterNs = 100 * MS;
        long deadAfterNs = 300 * MS;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PeerMonitor monitor = new PeerMonitor(suspectAfterNs, deadAfterNs, registry, Tags.of("domain", "db"));
        closeables.add(monitor);
        monitor.watch(System.nanoTime());
        HeartbeatChannel a = open(TOKEN, monitor);
        HeartbeatChannel b = open(TOKEN, (nowNs, sequence, rttNs) -> { });
        a.setPeer(at(b));
        b.setPeer(at(a));
        await("alive", LIMIT, () -> monitor.poll(System.nanoTime()) == PeerState.ALIVE);
        await("a round trip recorded", LIMIT, () -> monitor.lastRttNs() >= 0);

        b.close();
        assertThat(monitor.poll(System.nanoTime())).as("not dead while it was still sending").isNotEqualTo(PeerState.DEAD);
        await("dead", LIMIT, () -> monitor.poll(System.nanoTime()) == PeerState.DEAD);

        assertThat(monitor.silenceNs(System.nanoTime())).isGreaterThanOrEqualTo(deadAfterNs);
        assertThat(registry.get(PeerMonitor.STATE).tag("domain", "db").gauge().value()).isEqualTo(3);
        assertThat(registry.get(PeerMonitor.RECEIVED).tag("domain", "db").counter().count()).isPositive();
        assertThat(registry.get(PeerMonitor.RTT).tag("domain", "db").timer().count()).isPositive();
    }

    @Test
    void bindFailureSaysWhere() {
        HeartbeatChannel a = open(TOKEN, (nowNs, sequence, rttNs) -> { });
        assertThatThrownBy(() -> HeartbeatChannel.open(group, LOOPBACK, a.localPort(), INTERVAL_NS, TOKEN,
                System::nanoTime, (nowNs, sequence, rttNs) -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("heartbeat: cannot bind UDP 127.0.0.1:" + a.localPort());
    }

    @Test
    void rejectsBadArguments() {
        HeartbeatChannel.Listener ignore = (nowNs, sequence, rttNs) -> { };
        assertThatThrownBy(() -> HeartbeatChannel.open(group, LOOPBACK, 0, 0, TOKEN, System::nanoTime, ignore))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intervalNs must be positive");
        assertThatThrownBy(() -> HeartbeatChannel.open(group, LOOPBACK, 70_000, INTERVAL_NS, TOKEN, System::nanoTime, ignore))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bindPort must be 0..65535");
    }

    /**
     * Over real sockets, keyed as a TLS session keys them: a third party that knows the session token (it
     * travels inside TLS, but say it leaked) can neither forge a heartbeat nor replay a captured one.
     */
    @Test
    void withKeysAForgedOrReplayedDatagramKeepsNobodyAlive() throws Exception {
        byte[] material = new byte[2 * HeartbeatKeys.KEY_BYTES];
        new java.util.Random(5).nextBytes(material);
        Queue<Received> atA = new ConcurrentLinkedQueue<>();
        HeartbeatChannel a = open(TOKEN, recordInto(atA));
        a.setKeys(HeartbeatKeys.fromExportedMaterial(material, false));
        HeartbeatKeys primarys = HeartbeatKeys.fromExportedMaterial(material, true);
        byte[] forgerKeyMaterial = material.clone();
        forgerKeyMaterial[0] ^= 1;
        HeartbeatKeys forgers = HeartbeatKeys.fromExportedMaterial(forgerKeyMaterial, true);

        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(LOOPBACK))) {
            InetSocketAddress target = at(a);
            byte[] genuine = datagram(new HeartbeatDatagram(TOKEN, 1, 1_000, 0, 0), primarys);
            socket.send(new DatagramPacket(genuine, genuine.length, target));
            await("the genuine heartbeat accepted", LIMIT, () -> atA.size() == 1);

            byte[] forged = datagram(new HeartbeatDatagram(TOKEN, 2, 2_000, 0, 0), forgers);
            byte[] untagged = datagram(new HeartbeatDatagram(TOKEN, 3, 3_000, 0, 0), null);
            for (byte[] bytes : List.of(forged, untagged, genuine)) { // the last: a replay
                socket.send(new DatagramPacket(bytes, bytes.length, target));
            }
            await("forged, untagged and replayed datagrams rejected", LIMIT, () -> a.rejectedDatagrams() == 3);
            assertThat(atA).hasSize(1);
        }
    }

    private static byte[] datagram(HeartbeatDatagram d, HeartbeatKeys keys) {
        ByteBuf buf = Unpooled.buffer(HeartbeatDatagram.LENGTH);
        d.encodeInto(buf, keys);
        byte[] bytes = ByteBufUtil.getBytes(buf);
        buf.release();
        return bytes;
    }
}
