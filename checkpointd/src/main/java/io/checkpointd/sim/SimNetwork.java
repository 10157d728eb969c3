package io.checkpointd.sim;

import io.checkpointd.netbuffer.HeldEgress;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.function.BiConsumer;

/**
 * The sim guest's network attachment: a UDP socket standing for the guest's IP address. Inbound datagrams
 * reach the guest at once (ingress is never held); what the guest transmits goes through {@link HeldEgress}
 * and leaves the socket only when released.
 *
 * <p>While held, a frame carries its destination in front of the payload, as a real frame carries its
 * headers: {@code int8 address length (4 or 16), address, uint16 port, payload}.
 */
public final class SimNetwork implements GuestNic, AutoCloseable {
    private final EventLoop loop;
    private HeldEgress egress;
    private Channel channel;

    public SimNetwork(EventLoop loop) {
        this.loop = loop;
    }

    /** Binds the guest's address; {@code inbound} gets each datagram (the buffer is released after the call). */
    public InetSocketAddress bind(String host, int port, HeldEgress egress, BiConsumer<InetSocketAddress, ByteBuf> inbound) {
        this.egress = egress;
        this.channel = new Bootstrap().group(loop).channel(NioDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        inbound.accept(packet.sender(), packet.content());
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    /** The loop that owns this network's socket and egress buffer. */
    public EventLoop loop() {
        return loop;
    }

    @Override
    public void transmit(InetSocketAddress recipient, ByteBuf payload) {
        byte[] address = recipient.getAddress().getAddress();
        ByteBuf frame = ByteBufAllocator.DEFAULT.buffer(3 + address.length + payload.readableBytes());
        frame.writeByte(address.length).writeBytes(address).writeShort(recipient.getPort()).writeBytes(payload);
        payload.release();
        egress.transmit(frame);
    }

    /** Puts a released frame on the wire; runs on the loop. */
    public void sendReleased(ByteBuf frame) {
        try {
            byte[] address = new byte[frame.readUnsignedByte()];
            frame.readBytes(address);
            int port = frame.readUnsignedShort();
            InetSocketAddress to = new InetSocketAddress(InetAddress.getByAddress(address), port);
            channel.writeAndFlush(new DatagramPacket(frame.retain(), to));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("held frame with a malformed address", e);
        } finally {
            frame.release();
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
    }
}
