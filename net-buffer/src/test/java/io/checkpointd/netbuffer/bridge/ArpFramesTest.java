package io.checkpointd.netbuffer.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ArpFramesTest {
    private static final byte[] MAC = HexFormat.of().parseHex("525400123456");

    @Test
    void aGratuitousRequestIsABroadcastAskingForItsOwnAddress() {
        byte[] frame = ArpFrames.gratuitousRequest(MAC, Packets.ip("10.1.2.3"));

        assertThat(HexFormat.of().formatHex(frame)).isEqualTo(
                "ffffffffffff" + "525400123456" + "0806" // Ethernet: broadcast, from the guest, ARP
                        + "0001" + "0800" + "06" + "04" // Ethernet/IPv4 address sizes
                        + "0001" // request
                        + "525400123456" + "0a010203" // sender: the guest
                        + "000000000000" + "0a010203"); // target: unknown MAC, the same IP
        assertThat(frame).hasSize(ArpFrames.FRAME_BYTES);
    }

    @Test
    void aReplyCarriesBothSides() {
        byte[] other = HexFormat.of().parseHex("0a0000000001");
        byte[] frame = ArpFrames.arp(ArpFrames.OPERATION_REPLY, other, MAC, Packets.ip("192.168.0.2"), other,
                Packets.ip("192.168.0.1"));

        assertThat(HexFormat.of().formatHex(frame)).isEqualTo(
                "0a0000000001" + "525400123456" + "0806" + "0001" + "0800" + "06" + "04" + "0002"
                        + "525400123456" + "c0a80002" + "0a0000000001" + "c0a80001");
    }

    @Test
    void onlyUnicastSixByteMacsAreAnnounced() {
        assertThatThrownBy(() -> ArpFrames.gratuitousRequest(new byte[5], Packets.ip("10.0.0.1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("6 bytes, not 5");
        assertThatThrownBy(() -> ArpFrames.gratuitousRequest(HexFormat.of().parseHex("ffffffffffff"),
                Packets.ip("10.0.0.1"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ff:ff:ff:ff:ff:ff is multicast or broadcast");
    }

    @Test
    void macsAreFormattedWithColons() {
        assertThat(ArpFrames.formatMac(MAC)).isEqualTo("52:54:00:12:34:56");
    }
}
