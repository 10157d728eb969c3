package io.checkpointd.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The protocol on an {@link EmbeddedChannel} with virtual time: no sockets, no sleeps. */
class HeartbeatHandlerTest {
    private static final long MS = 1_000_000;
    private static final long INTERVAL_NS = 100 * MS;
    private static final long TOKEN = 0xC0FFEEL;
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 9999);
    private static final InetSocketAddress ME = new InetSocketAddress("127.0.0.1", 8888);

    record Received(long nowNs, long sequence, long rttNs) {
    }

    private long nowNs = 5_000 * MS; // not 0: a sentNanos of 0 reads as "no echo"
    private final List<Received> received = new ArrayList<>();
    private final HeartbeatHandler handler = new HeartbeatHandler(INTERVAL_NS, TOKEN, () -> nowNs,
            (at, sequence, rttNs) -> received.add(new Received(at, sequence, rttNs)));
    private final EmbeddedChannel channel = newChannel();

    private EmbeddedChannel newChannel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(handler);
        ch.pipeline().fireChannelActive(); // added after registration: start the timer as a bind would
        ch.runScheduledPendingTasks(); // the timer's first tick, at once; no peer yet, so nothing is sent
        return ch;
    }

    @AfterEach
    void finish() {
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    private void advance(long ns) {
        nowNs += ns;
        channel.advanceTimeBy(ns, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
    }

    private HeartbeatDatagram sent() {
        DatagramPacket packet = channel.readOutbound();
        assertThat(packet).as("a heartbeat was sent").isNotNull();
        try {
            assertThat(packet.recipient()).isEqualTo(PEER);
            HeartbeatDatagram datagram = HeartbeatDatagram.decode(packet.content());
            assertThat(datagram).isNotNull();
            return datagram;
        } finally {
            packet.release();
        }
    }

    private void receive(HeartbeatDatagram datagram) {
        ByteBuf buf = Unpooled.buffer(HeartbeatDatagram.LENGTH);
        datagram.encodeInto(buf, null);
        receive(buf);
    }

    private void receive(ByteBuf content) {
        channel.writeInbound(new DatagramPacket(content, ME, PEER));
    }

    @Test
    void sendsNothingWithoutAPeer() {
        advance(10 * INTERVAL_NS);
        assertThat(channel.outboundMessages()).isEmpty();
    }

    @Test
    void sendsOnePerIntervalWithIncreasingSequenceUntilThePeerIsCleared() {
        handler.peer(PEER);
        advance(INTERVAL_NS);
        HeartbeatDatagram first = sent();
        assertThat(first.sessionToken()).isEqualTo(TOKEN);
        assertThat(first.sentNanos()).isEqualTo(nowNs);
        assertThat(first.echoNanos()).isZero();
        assertThat(first.echoDelayNanos()).isZero();
        advance(INTERVAL_NS);
        HeartbeatDatagram second = sent();
        assertThat(second.sequence()).isEqualTo(first.sequence() + 1);
        assertThat(second.sentNanos() - first.sentNanos()).isEqualTo(INTERVAL_NS);
        assertThat(channel.outboundMessages()).isEmpty();

        handler.peer(null);
        advance(5 * INTERVAL_NS);
        assertThat(channel.outboundMessages()).isEmpty();
    }

    @Test
    void echoesThePeersClockWithTheTimeItHeldIt() {
        handler.peer(PEER);
        advance(70 * MS);
        receive(new HeartbeatDatagram(TOKEN, 1, 777, 0, 0));
        long receivedAtNs = nowNs;
        advance(30 * MS); // the timer fires 100 ms after the channel became active
        HeartbeatDatagram reply = sent();
        assertThat(reply.echoNanos()).isEqualTo(777);
        assertThat(reply.echoDelayNanos()).isEqualTo(30 * MS);
        assertThat(received).containsExactly(new Received(receivedAtNs, 1, -1));
    }

    @Test
    void roundTripExcludesTheTimeThePeerHeldTheEcho() {
        handler.peer(PEER);
        advance(INTERVAL_NS);
        HeartbeatDatagram ours = sent();
        advance(60 * MS); // 60 ms later the peer's answer arrives, saying it held our heartbeat for 45 ms
        receive(new HeartbeatDatagram(TOKEN, 1, 123, ours.sentNanos(), 45 * MS));
        assertThat(received).containsExactly(new Received(nowNs, 1, 15 * MS));

        advance(10 * MS); // the same echo again (the peer sent twice before hearing from us): no new sample
        receive(new HeartbeatDatagram(TOKEN, 2, 124, ours.sentNanos(), 55 * MS));
        assertThat(received).last().isEqualTo(new Received(nowNs, 2, -1));
    }

    @Test
    void echoesThatAreNotOursGiveNoRoundTrip() {
        handler.peer(PEER);
        advance(INTERVAL_NS);
        HeartbeatDatagram ours = sent();
        receive(new HeartbeatDatagram(TOKEN, 1, 1, ours.sentNanos() - 1, 0)); // before our first send
        receive(new HeartbeatDatagram(TOKEN, 2, 2, ours.sentNanos() + 1, 0)); // after our last send
        receive(new HeartbeatDatagram(TOKEN, 3, 3, ours.sentNanos(), -1)); // negative hold time
        assertThat(received).extracting(Received::rttNs).containsExactly(-1L, -1L, -1L);
    }

    @Test
    void aNewPeerDoesNotGetTheOldPeersEcho() {
        handler.peer(PEER);
        receive(new HeartbeatDatagram(TOKEN, 1, 777, 0, 0));
        handler.peer(new InetSocketAddress("127.0.0.1", 7777));
        handler.peer(PEER);
        advance(INTERVAL_NS);
        assertThat(sent().echoNanos()).isZero();
    }

    @Test
    void rejectsAnotherSessionTokenUntilItIsAdopted() {
        receive(new HeartbeatDatagram(TOKEN + 1, 1, 777, 0, 0));
        assertThat(received).isEmpty();
        assertThat(handler.rejectedDatagrams()).isEqualTo(1);

        handler.sessionToken(TOKEN + 1);
        receive(new HeartbeatDatagram(TOKEN + 1, 2, 778, 0, 0));
        receive(new HeartbeatDatagram(TOKEN, 3, 779, 0, 0));
        assertThat(received).extracting(Received::sequence).containsExactly(2L);
        assertThat(handler.rejectedDatagrams()).isEqualTo(2);
    }

    @Test
    void countsAndIgnoresGarbage() {
        receive(Unpooled.buffer().writeByte(1));
        receive(Unpooled.buffer().writeZero(HeartbeatDatagram.LENGTH));
        receive(Unpooled.buffer().writeZero(HeartbeatDatagram.LENGTH + 1));
        receive(Unpooled.EMPTY_BUFFER);
        assertThat(received).isEmpty();
        assertThat(handler.rejectedDatagrams()).isEqualTo(4);
    }

    private static byte[] material(int seed) {
        byte[] m = new byte[2 * HeartbeatKeys.KEY_BYTES];
        new java.util.Random(seed).nextBytes(m);
        return m;
    }

    private void receiveTagged(HeartbeatDatagram datagram, HeartbeatKeys senderKeys) {
        ByteBuf buf = Unpooled.buffer(HeartbeatDatagram.LENGTH);
        datagram.encodeInto(buf, senderKeys);
        receive(buf);
    }

    /** Keyed from the TLS session: the peer's datagrams count; forged, replayed and reflected ones do not. */
    @Test
    void withKeysOnlyTheTaggedFreshDatagramsOfThePeerCount() {
        HeartbeatKeys mine = HeartbeatKeys.fromExportedMaterial(material(1), true);
        HeartbeatKeys peers = HeartbeatKeys.fromExportedMaterial(material(1), false);
        HeartbeatKeys strangers = HeartbeatKeys.fromExportedMaterial(material(2), false);
        handler.keys(mine);

        receiveTagged(new HeartbeatDatagram(TOKEN, 1, 1, 0, 0), peers);
        assertThat(received).hasSize(1);
        receiveTagged(new HeartbeatDatagram(TOKEN, 2, 2, 0, 0), strangers);
        receive(new HeartbeatDatagram(TOKEN, 3, 3, 0, 0)); // untagged, as before keys
        assertThat(received).as("a forged or untagged datagram keeps nobody alive").hasSize(1);
        receiveTagged(new HeartbeatDatagram(TOKEN, 1, 1, 0, 0), peers);
        assertThat(received).as("a replay of an accepted datagram").hasSize(1);
        receiveTagged(new HeartbeatDatagram(TOKEN, 9, 9, 0, 0), mine);
        assertThat(received).as("my own datagram reflected back to me").hasSize(1);
        receiveTagged(new HeartbeatDatagram(TOKEN, 4, 4, 0, 0), peers);
        assertThat(received).hasSize(2);
        assertThat(handler.rejectedDatagrams()).isEqualTo(4);

        handler.peer(PEER);
        advance(INTERVAL_NS);
        DatagramPacket packet = channel.readOutbound();
        try {
            assertThat(HeartbeatDatagram.verify(packet.content(), peers)).as("what I send, the peer verifies").isTrue();
            assertThat(HeartbeatDatagram.verify(packet.content(), strangers)).isFalse();
        } finally {
            packet.release();
        }
    }
}
