package io.checkpointd.netbuffer.bridge;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;

/**
 * ARP for IPv4 over Ethernet (RFC 826), as whole Ethernet frames. Used to announce that a guest's MAC and
 * IP now live behind this host's tap (after failover), in the form of RFC 5227's ARP announcement: a
 * request whose sender and target IP are both the guest's, broadcast.
 *
 * <pre>
 *  offset  bytes  field
 *   0      6      Ethernet destination MAC
 *   6      6      Ethernet source MAC
 *  12      2      EtherType 0x0806 (ARP)
 *  14      2      hardware type 1 (Ethernet)
 *  16      2      protocol type 0x0800 (IPv4)
 *  18      1      hardware address length 6
 *  19      1      protocol address length 4
 *  20      2      operation: 1 request, 2 reply
 *  22      6      sender MAC
 *  28      4      sender IP
 *  32      6      target MAC
 *  38      4      target IP
 *  42             end (no padding to 60: the kernel and bridges pad short frames themselves)
 * </pre>
 */
public final class ArpFrames {
    public static final int FRAME_BYTES = 42;
    public static final int MAC_BYTES = 6;
    public static final int ETHERTYPE_ARP = 0x0806;
    public static final int OPERATION_REQUEST = 1;
    public static final int OPERATION_REPLY = 2;

    static final int DESTINATION_MAC_OFFSET = 0;
    static final int SOURCE_MAC_OFFSET = 6;
    static final int ETHERTYPE_OFFSET = 12;
    static final int OPERATION_OFFSET = 20;
    static final int SENDER_MAC_OFFSET = 22;
    static final int SENDER_IP_OFFSET = 28;
    static final int TARGET_MAC_OFFSET = 32;
    static final int TARGET_IP_OFFSET = 38;

    private static final int HARDWARE_TYPE_ETHERNET = 1;
    private static final int PROTOCOL_TYPE_IPV4 = 0x0800;
    private static final int IPV4_BYTES = 4;
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    private static final byte[] UNKNOWN = new byte[MAC_BYTES];

    private ArpFrames() {
    }

    /**
     * A gratuitous ARP request (announcement) for {@code ip} at {@code mac}: broadcast, sender and target
     * IP both {@code ip}, target MAC zero. Neighbours that already know {@code ip} update their entry;
     * Linux creates one only where {@code arp_accept} is set. Switches learn {@code mac} from the source.
     *
     * @param mac a unicast MAC address, 6 bytes
     * @throws IllegalArgumentException if {@code mac} is not 6 bytes or is a multicast/broadcast address
     */
    public static byte[] gratuitousRequest(byte[] mac, Inet4Address ip) {
        checkUnicastMac(mac);
        return arp(OPERATION_REQUEST, BROADCAST, mac, ip, UNKNOWN, ip);
    }

    /** Any ARP frame for IPv4 over Ethernet, from {@code senderMac}; see the layout in the class comment. */
    static byte[] arp(int operation, byte[] destinationMac, byte[] senderMac, Inet4Address senderIp,
                      byte[] targetMac, Inet4Address targetIp) {
        ByteBuffer frame = ByteBuffer.allocate(FRAME_BYTES);
        frame.put(checkLength(destinationMac)).put(checkLength(senderMac)).putShort((short) ETHERTYPE_ARP)
                .putShort((short) HARDWARE_TYPE_ETHERNET).putShort((short) PROTOCOL_TYPE_IPV4)
                .put((byte) MAC_BYTES).put((byte) IPV4_BYTES).putShort((short) operation)
                .put(senderMac).put(senderIp.getAddress())
                .put(checkLength(targetMac)).put(targetIp.getAddress());
        return frame.array();
    }

    /** {@code 52:54:00:12:34:56} */
    public static String formatMac(byte[] mac) {
        return HexFormat.ofDelimiter(":").formatHex(checkLength(mac));
    }

    private static void checkUnicastMac(byte[] mac) {
        checkLength(mac);
        if ((mac[0] & 1) != 0) {
            throw new IllegalArgumentException("MAC " + formatMac(mac) + " is multicast or broadcast; "
                    + "a guest's address is unicast");
        }
    }

    private static byte[] checkLength(byte[] mac) {
        Objects.requireNonNull(mac, "mac");
        if (mac.length != MAC_BYTES) {
            throw new IllegalArgumentException("a MAC address is " + MAC_BYTES + " bytes, not " + mac.length);
        }
        return mac;
    }
}
