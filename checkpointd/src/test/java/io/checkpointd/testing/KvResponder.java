package io.checkpointd.testing;

import io.checkpointd.sim.KvProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the guest's key-value service on loopback, with one {@link Fault}: after serving a number
 * of requests it goes silent (a dead host) for a while, and may come back without its state (a failover that
 * lost acknowledged writes). Counting requests rather than time makes the fault land in the middle of the
 * client's load however long the client takes to start.
 */
public final class KvResponder implements AutoCloseable {
    private static final int KEYS = 4096;
    private static final int POLL_MILLIS = 5;

    /**
     * @param afterRequests serve this many requests normally first
     * @param silentMillis  then drop every request for this long; {@link #FOREVER} never answers again
     * @param loseState     come back with every value forgotten, as a service restarted from scratch would
     */
    public record Fault(long afterRequests, long silentMillis, boolean loseState) {
        public static final long FOREVER = -1;
        public static final Fault NONE = new Fault(Long.MAX_VALUE, 0, false);
    }

    private final DatagramSocket socket;
    private final Fault fault;
    private final Thread thread;
    private long[] table = new long[KEYS];
    private long served;
    private long silentUntilNs;
    private volatile long silentFromMs = -1;
    private volatile long answeringFromMs = -1;
    private volatile boolean running = true;

    private KvResponder(Fault fault) throws IOException {
        this.fault = fault;
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        socket.setSoTimeout(POLL_MILLIS);
        thread = Thread.ofPlatform().name("kv-responder").daemon().start(this::serve);
    }

    public static KvResponder start(Fault fault) throws IOException {
        return new KvResponder(fault);
    }

    public String address() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    /** Wall-clock ms the silence began, after the last reply before it was sent; -1 before. */
    public long silentFromMs() {
        return silentFromMs;
    }

    /** Wall-clock ms the service answered again; -1 while silent or before. */
    public long answeringFromMs() {
        return answeringFromMs;
    }

    private boolean silent() {
        if (silentFromMs < 0) {
            if (served < fault.afterRequests()) {
                return false;
            }
            silentFromMs = System.currentTimeMillis();
            silentUntilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(fault.silentMillis());
        }
        if (answeringFromMs >= 0) {
            return false;
        }
        if (fault.silentMillis() == Fault.FOREVER || System.nanoTime() - silentUntilNs < 0) {
            return true;
        }
        if (fault.loseState()) {
            table = new long[KEYS];
        }
        answeringFromMs = System.currentTimeMillis();
        return false;
    }

    private void serve() {
        byte[] in = new byte[64];
        while (running) {
            DatagramPacket packet = new DatagramPacket(in, in.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                silent(); // so the silence ends on time even when nothing arrives
                continue;
            } catch (IOException e) {
                return; // closed
            }
            KvProtocol.Request request = KvProtocol.Request.parse(Unpooled.wrappedBuffer(in, 0, packet.getLength()));
            if (request == null || silent()) {
                continue;
            }
            served++;
            try {
                socket.send(reply(request, packet));
            } catch (IOException e) {
                return;
            }
        }
    }

    private DatagramPacket reply(KvProtocol.Request request, DatagramPacket from) {
        long value = 0;
        byte status = KvProtocol.STATUS_OK;
        if (request.key() < 0 || request.key() >= KEYS) {
            status = KvProtocol.STATUS_BAD_REQUEST;
        } else if (request.op() == KvProtocol.OP_SET) {
            table[request.key()] = request.value();
            value = request.value();
        } else {
            value = table[request.key()];
        }
        ByteBuf reply = Unpooled.buffer(KvProtocol.REPLY_BYTES);
        new KvProtocol.Reply(request.requestId(), status, request.op(), request.key(), value).writeTo(reply);
        return new DatagramPacket(reply.array(), reply.arrayOffset(), KvProtocol.REPLY_BYTES, from.getSocketAddress());
    }

    @Override
    public void close() {
        running = false;
        socket.close();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
