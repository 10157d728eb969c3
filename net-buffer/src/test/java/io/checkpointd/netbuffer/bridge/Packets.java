package io.checkpointd.netbuffer.bridge;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Just enough Ethernet, ARP, IPv4 and UDP for a fake guest. */
final class Packets {
    static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERNET_HEADER_BYTES = 14;
    private static final int IPV4_HEADER_BYTES = 20;
    private static final int UDP_HEADER_BYTES = 8;
    private static final int PROTOCOL_UDP = 17;

    private Packets() {
    }

    static Inet4Address ip(String dotted) {
        try {
            return (Inet4Address) InetAddress.getByName(dotted);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static int ethertype(byte[] frame) {
        return frame.length < ETHERNET_HEADER_BYTES ? -1 : ByteBuffer.wrap(frame).getShort(12) & 0xffff;
    }

    static byte[] sourceMac(byte[] frame) {
        return Arrays.copyOfRange(frame, 6, 12);
    }

    /** True for an ARP request asking for {@code ip}. */
    static boolean isArpRequestFor(byte[] frame, Inet4Address ip) {
        return frame.length >= ArpFrames.FRAME_BYTES && ethertype(frame) == ArpFrames.ETHERTYPE_ARP
                && ByteBuffer.wrap(frame).getShort(ArpFrames.OPERATION_OFFSET) == ArpFrames.OPERATION_REQUEST
                && Arrays.equals(frame, ArpFrames.TARGET_IP_OFFSET, ArpFrames.TARGET_IP_OFFSET + 4,
                ip.getAddress(), 0, 4);
    }

    /** The reply to an ARP request, from {@code mac}. */
    static byte[] arpReply(byte[] request, byte[] mac) {
        byte[] requesterMac = Arrays.copyOfRange(request, ArpFrames.SENDER_MAC_OFFSET, ArpFrames.SENDER_MAC_OFFSET + 6);
        Inet4Address requesterIp = ip4(Arrays.copyOfRange(request, ArpFrames.SENDER_IP_OFFSET,
                ArpFrames.SENDER_IP_OFFSET + 4));
        Inet4Address askedIp = ip4(Arrays.copyOfRange(request, ArpFrames.TARGET_IP_OFFSET,
                ArpFrames.TARGET_IP_OFFSET + 4));
        return ArpFrames.arp(ArpFrames.OPERATION_REPLY, requesterMac, mac, askedIp, requesterMac, requesterIp);
    }

    /** An Ethernet frame carrying an IPv4 UDP datagram (UDP checksum 0: none, which IPv4 allows). */
    static byte[] udp(byte[] destinationMac, byte[] sourceMac, Udp datagram) {
        int ipBytes = IPV4_HEADER_BYTES + UDP_HEADER_BYTES + datagram.payload().length;
        ByteBuffer frame = ByteBuffer.allocate(ETHERNET_HEADER_BYTES + ipBytes);
        frame.put(destinationMac).put(sourceMac).putShort((short) ETHERTYPE_IPV4);
        int ipStart = frame.position();
        frame.put((byte) 0x45).put((byte) 0).putShort((short) ipBytes)
                .putShort((short) 0).putShort((short) 0x4000) // identification; don't fragment
                .put((byte) 64).put((byte) PROTOCOL_UDP).putShort((short) 0)
                .put(datagram.source().getAddress()).put(datagram.destination().getAddress());
        frame.putShort(ipStart + 10, ipv4Checksum(frame.array(), ipStart));
        frame.putShort((short) datagram.sourcePort()).putShort((short) datagram.destinationPort())
                .putShort((short) (UDP_HEADER_BYTES + datagram.payload().length)).putShort((short) 0)
                .put(datagram.payload());
        return frame.array();
    }

    /** The UDP datagram in {@code frame}, or null if it carries none. */
    static Udp parseUdp(byte[] frame) {
        if (ethertype(frame) != ETHERTYPE_IPV4 || frame.length < ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES) {
            return null;
        }
        ByteBuffer ip = ByteBuffer.wrap(frame, ETHERNET_HEADER_BYTES, frame.length - ETHERNET_HEADER_BYTES).slice();
        int headerBytes = (ip.get(0) & 0x0f) * 4;
        if (ip.get(9) != PROTOCOL_UDP) {
            return null;
        }
        int totalBytes = ip.getShort(2) & 0xffff;
        Inet4Address source = ip4(Arrays.copyOfRange(frame, ETHERNET_HEADER_BYTES + 12, ETHERNET_HEADER_BYTES + 16));
        Inet4Address destination = ip4(Arrays.copyOfRange(frame, ETHERNET_HEADER_BYTES + 16,
                ETHERNET_HEADER_BYTES + 20));
        int udp = ETHERNET_HEADER_BYTES + headerBytes;
        ByteBuffer header = ByteBuffer.wrap(frame);
        byte[] payload = Arrays.copyOfRange(frame, udp + UDP_HEADER_BYTES, ETHERNET_HEADER_BYTES + totalBytes);
        return new Udp(source, header.getShort(udp) & 0xffff, destination, header.getShort(udp + 2) & 0xffff, payload);
    }

    private static short ipv4Checksum(byte[] bytes, int start) {
        int sum = 0;
        for (int i = start; i < start + IPV4_HEADER_BYTES; i += 2) {
            sum += ((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (short) ~sum;
    }

    private static Inet4Address ip4(byte[] address) {
        try {
            return (Inet4Address) InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    record Udp(Inet4Address source, int sourcePort, Inet4Address destination, int destinationPort, byte[] payload) {
        Udp reply(byte[] replyPayload) {
            return new Udp(destination, destinationPort, source, sourcePort, replyPayload);
        }
    }
}
