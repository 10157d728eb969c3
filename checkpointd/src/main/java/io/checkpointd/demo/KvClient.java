package io.checkpointd.demo;

import io.checkpointd.sim.KvProtocol;
import io.checkpointd.util.NanoClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop client of the sim guest's key-value service: keeps {@code concurrency} requests in flight,
 * each on a different key, 90% SET (of the key's next value) and 10% GET; a request unanswered for
 * {@code retryAfterNs} is sent again unchanged (SET of the same value is idempotent). Every reply goes to
 * the {@link ReplicaObserver}.
 */
public final class KvClient implements AutoCloseable {
    private record Pending(KvProtocol.Request request, long firstSentNs) {
    }

    /**
     * What the client saw. A write is acknowledged when its reply arrived; it is lost when a later read (the
     * sweep after a failover, or any GET) shows an older value.
     *
     * @param downtimeNs from the kill to the first answer after it; -1 without a kill or without an answer
     */
    public record Result(long requests, long answered, long retries, long errors, Histogram latencyNs,
                         long ackedWrites, long lostAckedWrites, long keysVerified, long downtimeNs,
                         List<String> lostExamples) {
    }

    private final DatagramChannel channel;
    private final Selector selector;
    private final int concurrency;
    private final int keys;
    private final ReplicaObserver observer;
    private final NanoClock clock;
    private final long retryAfterNs;
    private final SplittableRandom random = new SplittableRandom(7);
    private final long[] nextValue;
    private final long[] ackedValue;
    private final boolean[] busy;
    private final ArrayDeque<Integer> sweep = new ArrayDeque<>();
    private final List<String> lostExamples = new ArrayList<>();
    private long killAtNs;
    private boolean killed;
    private long downtimeNs = -1;
    private long ackedWrites;
    private long lostAckedWrites;
    private long keysVerified;
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Map<Long, Long> lastSentNs = new HashMap<>();
    private final Histogram latencyNs = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocate(2048);
    private long nextRequestId = 1;
    private long requests;
    private long answered;
    private long retries;
    private long errors;

    public KvClient(InetSocketAddress service, int concurrency, int keys, ReplicaObserver observer, NanoClock clock,
                    long retryAfterNs) throws IOException {
        if (concurrency > keys) {
            throw new IllegalArgumentException("concurrency " + concurrency + " exceeds the " + keys + " keys");
        }
        this.channel = DatagramChannel.open();
        channel.connect(service);
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        this.concurrency = concurrency;
        this.keys = keys;
        this.observer = observer;
        this.clock = clock;
        this.retryAfterNs = retryAfterNs;
        this.nextValue = new long[keys];
        this.ackedValue = new long[keys];
        this.busy = new boolean[keys];
    }

    /**
     * The primary will be killed at {@code killAtNs} (this client's clock): measure the downtime, and once
     * the guest answers again read back every key with an acknowledged write.
     */
    public KvClient expectKillAt(long killAtNs) {
        this.killAtNs = killAtNs;
        this.killed = true;
        return this;
    }

    /** Runs the load for {@code durationNs}; requests still in flight at the end are not answered. */
    public Result run(long durationNs) throws IOException {
        long endNs = clock.nanoTime() + durationNs;
        while (pending.size() < concurrency) {
            sendNew();
        }
        while (clock.nanoTime() - endNs < 0) {
            selector.select(10);
            selector.selectedKeys().clear();
            drainReplies();
            retryOverdue();
        }
        return new Result(requests, answered, retries, errors, latencyNs, ackedWrites, lostAckedWrites, keysVerified,
                downtimeNs, List.copyOf(lostExamples));
    }

    private void drainReplies() throws IOException {
        while (true) {
            receiveBuffer.clear();
            try {
                if (channel.receive(receiveBuffer) == null) {
                    return;
                }
            } catch (PortUnreachableException e) {
                return; // nothing listens on the service address right now; retries will find it again
            }
            receiveBuffer.flip();
            ByteBuf buf = Unpooled.wrappedBuffer(receiveBuffer);
            KvProtocol.Reply reply = KvProtocol.Reply.parse(buf);
            Pending p = reply == null ? null : pending.remove(reply.requestId());
            if (p == null) {
                continue; // a duplicate answer to a retried request
            }
            long nowNs = clock.nanoTime();
            lastSentNs.remove(reply.requestId());
            latencyNs.recordValue(Math.min(nowNs - p.firstSentNs(), latencyNs.getHighestTrackableValue()));
            answered++;
            if (reply.status() != KvProtocol.STATUS_OK) {
                errors++;
            } else {
                observer.onReply(reply.key(), reply.value());
                onAnswer(p.request(), reply.value());
            }
            if (killed && downtimeNs < 0 && nowNs - killAtNs > 0) {
                downtimeNs = nowNs - killAtNs;
                for (int k = 0; k < keys; k++) {
                    if (ackedValue[k] > 0) {
                        sweep.add(k);
                    }
                }
            }
            busy[p.request().key()] = false;
            sendNew();
        }
    }

    private void onAnswer(KvProtocol.Request request, long value) {
        int key = request.key();
        if (request.op() == KvProtocol.OP_SET) {
            ackedWrites++;
            ackedValue[key] = Math.max(ackedValue[key], value);
        } else {
            if (value < ackedValue[key]) {
                lostAckedWrites++;
                if (lostExamples.size() < 5) {
                    lostExamples.add("key " + key + ": acknowledged " + ackedValue[key] + ", read back " + value);
                }
            }
            if (request.requestId() < 0) {
                keysVerified++;
            }
        }
    }

    private void sendNew() throws IOException {
        Integer swept = null;
        // A busy key goes to the back of the sweep; give up for now once every queued key was busy.
        for (int tries = sweep.size(); tries > 0 && swept == null; tries--) {
            int k = sweep.poll();
            if (busy[k]) {
                sweep.add(k);
            } else {
                swept = k;
            }
        }
        if (swept != null) {
            // Verification reads carry negative ids so their answers are counted apart.
            busy[swept] = true;
            KvProtocol.Request read = new KvProtocol.Request(-(nextRequestId++), KvProtocol.OP_GET, swept, 0);
            long nowNs = clock.nanoTime();
            pending.put(read.requestId(), new Pending(read, nowNs));
            requests++;
            send(read, nowNs);
            return;
        }
        int key;
        do {
            key = random.nextInt(keys);
        } while (busy[key]);
        busy[key] = true;
        KvProtocol.Request request = random.nextInt(10) == 0
                ? new KvProtocol.Request(nextRequestId++, KvProtocol.OP_GET, key, 0)
                : new KvProtocol.Request(nextRequestId++, KvProtocol.OP_SET, key, ++nextValue[key]);
        long nowNs = clock.nanoTime();
        pending.put(request.requestId(), new Pending(request, nowNs));
        requests++;
        send(request, nowNs);
    }

    private void retryOverdue() throws IOException {
        long nowNs = clock.nanoTime();
        Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Pending p = it.next().getValue();
            if (nowNs - lastSentNs.get(p.request().requestId()) - retryAfterNs >= 0) {
                retries++;
                send(p.request(), nowNs);
            }
        }
    }

    private void send(KvProtocol.Request request, long nowNs) throws IOException {
        ByteBuf out = Unpooled.buffer(KvProtocol.REQUEST_BYTES);
        request.writeTo(out);
        lastSentNs.put(request.requestId(), nowNs);
        try {
            channel.write(out.nioBuffer());
        } catch (PortUnreachableException e) {
            // Nothing listens on the guest's address right now (failover under way); the retry resends it.
        }
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
