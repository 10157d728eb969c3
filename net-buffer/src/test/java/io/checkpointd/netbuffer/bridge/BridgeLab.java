package io.checkpointd.netbuffer.bridge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A tap in a namespace of its own, standing for the outside world, with a {@link FrameBridge} in front:
 * the host side is {@code 10.A.B.1/24} on the tap inside the namespace; a fake guest takes
 * {@code 10.A.B.2}. Frames from the guest are queued in {@link #fromGuest}, or, with
 * {@link #forwardToTap}, sent straight back to the tap (as an unprotected HeldEgress does).
 */
final class BridgeLab implements AutoCloseable {
    final Netns netns;
    final String tapName;
    final Inet4Address hostIp;
    final Inet4Address guestIp;
    final byte[] guestMac;
    final BlockingQueue<byte[]> fromGuest = new LinkedBlockingQueue<>();
    volatile boolean forwardToTap;
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private volatile FrameBridge bridge;

    private BridgeLab(Netns netns, String tapName) {
        this.netns = netns;
        this.tapName = tapName;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String subnet = "10." + random.nextInt(200, 250) + "." + random.nextInt(256) + ".";
        hostIp = Packets.ip(subnet + "1");
        guestIp = Packets.ip(subnet + "2");
        guestMac = HexFormat.ofDelimiter(":").parseHex("52:54:00:" + HexFormat.ofDelimiter(":").formatHex(
                new byte[] {(byte) random.nextInt(), (byte) random.nextInt(), (byte) random.nextInt()}));
    }

    static BridgeLab start() throws Exception {
        BridgeLab lab = new BridgeLab(Netns.create(), RealNetwork.uniqueName("cpbtap"));
        try {
            TapDevice tap = TapDevice.open(lab.tapName);
            lab.bridge = FrameBridge.start(tap, lab.group.next(), new InetSocketAddress("127.0.0.1", 0),
                    lab::onGuestFrame);
            RealNetwork.run("ip", "link", "set", lab.tapName, "netns", lab.netns.name());
            lab.netns.ip("addr", "add", lab.hostIp.getHostAddress() + "/24", "dev", lab.tapName);
            lab.netns.ip("link", "set", lab.tapName, "up");
            return lab;
        } catch (Exception | Error e) {
            lab.close();
            throw e;
        }
    }

    FrameBridge bridge() {
        return bridge;
    }

    FakeGuest connectGuest() throws Exception {
        return FakeGuest.connect(bridge.localAddress(), guestMac, guestIp);
    }

    /** The tap's MAC, as the namespace reports it. */
    byte[] hostMac() {
        String link = netns.ip("-o", "link", "show", "dev", tapName);
        String mac = link.replaceAll("(?s).*link/ether ([0-9a-f:]{17}).*", "$1");
        return HexFormat.ofDelimiter(":").parseHex(mac);
    }

    private void onGuestFrame(ByteBuf frame) {
        if (forwardToTap) {
            bridge.sendToTap(frame);
            return;
        }
        try {
            fromGuest.add(ByteBufUtil.getBytes(frame));
        } finally {
            frame.release();
        }
    }

    @Override
    public void close() {
        try {
            if (bridge != null) {
                bridge.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            netns.close();
        }
    }
}
