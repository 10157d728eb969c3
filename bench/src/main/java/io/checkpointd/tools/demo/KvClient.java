package io.checkpointd.tools.demo;

import io.checkpointd.sim.KvProtocol;
import io.checkpointd.util.NanoClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop client of a key-value service speaking {@link KvProtocol} (the sim guest's, or the real
 * guest's {@code guest/service.c}): keeps {@code concurrency} requests in flight, each on a different key,
 * 90% SET (of the key's next value: 1, 2, 3, ... per key) and 10% GET; a request unanswered for
 * {@code retryAfterNs} is sent again unchanged (SET of the same value is idempotent). A key's next SET is
 * sent only after the previous one was answered, so every value below a key's last acknowledged one was
 * acknowledged too. Every successful reply goes to the {@link ReplyObserver}.
 *
 * <p>One thread drives a client: {@link #run} for the load, then optionally {@link #verify} to read back
 * every key written.
 */
public final class KvClient implements AutoCloseable {
    private static final int LOST_EXAMPLES = 5;
    private static final long SELECT_MILLIS = 10;

    private record Pending(KvProtocol.Request request, long firstSentNs) {
    }

    /**
     * What the client saw. A write is acknowledged when its reply arrived; it is lost when a later read (any
     * GET, the sweep after a failover, or {@link #verify}) shows an older value.
     *
     * @param downtimeNs     from the kill to the first answer after it; -1 without a kill or without an answer
     * @param networkErrors  sends and receives the network refused (port or host unreachable), each retried
     * @param keysWritten    keys sent at least one SET
     * @param keysUnverified keys {@link #verify} was asked to read back and got no answer for (0 before it)
     * @param longestGap     the longest stretch without an answer, on the client's clock
     * @param longGaps       every answered stretch of at least {@link LongestGap#LONG_GAP_NS}, oldest first
     */
    public record Result(long requests, long answered, long retries, long errors, Histogram latencyNs,
                         long ackedWrites, long lostAckedWrites, long keysVerified, long downtimeNs,
                         List<String> lostExamples, long networkErrors, long keysWritten, long keysUnverified,
                         LongestGap.Gap longestGap, List<LongestGap.Gap> longGaps) {
    }

    private final DatagramChannel channel;
    private final Selector selector;
    private final int concurrency;
    private final int keys;
    private final ReplyObserver observer;
    private final NanoClock clock;
    private final long retryAfterNs;
    private final SplittableRandom random = new SplittableRandom(7);
    private final long[] nextValue;
    private final long[] ackedValue;
    private final boolean[] busy;
    private final boolean[] awaitingReadBack;
    private final ArrayDeque<Integer> sweep = new ArrayDeque<>();
    private final List<String> lostExamples = new ArrayList<>();
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Map<Long, Long> lastSentNs = new HashMap<>();
    private final Histogram latencyNs = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocate(2048);
    private LongestGap gaps;
    private long killAtNs;
    private boolean killed;
    private boolean loadStopped;
    private long downtimeNs = -1;
    private long ackedWrites;
    private long lostAckedWrites;
    private long keysVerified;
    private long nextRequestId = 1;
    private long requests;
    private long answered;
    private long retries;
    private long errors;
    private long networkErrors;

    public KvClient(InetSocketAddress service, int concurrency, int keys, ReplyObserver observer, NanoClock clock,
                    long retryAfterNs) throws IOException {
        if (concurrency > keys) {
            throw new IllegalArgumentException("concurrency " + concurrency + " exceeds the " + keys + " keys");
        }
        this.channel = DatagramChannel.open();
        try {
            channel.connect(service);
            channel.configureBlocking(false);
            this.selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        this.concurrency = concurrency;
        this.keys = keys;
        this.observer = observer;
        this.clock = clock;
        this.retryAfterNs = retryAfterNs;
        this.nextValue = new long[keys];
        this.ackedValue = new long[keys];
        this.busy = new boolean[keys];
        this.awaitingReadBack = new boolean[keys];
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
        long startNs = clock.nanoTime();
        gaps = new LongestGap(startNs);
        long endNs = startNs + durationNs;
        while (pending.size() < concurrency) {
            sendNext();
        }
        while (clock.nanoTime() - endNs < 0) {
            poll();
        }
        return result();
    }

    /**
     * Ends the load and reads back every key written: requests still in flight are retried until answered,
     * then each key gets a GET, and a value older than the key's acknowledged one counts as a lost write.
     * Gives up after {@code timeoutNs}; keys not read back by then are {@link Result#keysUnverified}.
     */
    public Result verify(long timeoutNs) throws IOException {
        if (gaps == null) {
            throw new IllegalStateException("verify() reads back what run() wrote; call run() first");
        }
        loadStopped = true;
        for (int k = 0; k < keys; k++) {
            if (nextValue[k] > 0 && !awaitingReadBack[k]) {
                awaitingReadBack[k] = true;
                sweep.add(k);
            }
        }
        long deadlineNs = clock.nanoTime() + timeoutNs;
        while ((!pending.isEmpty() || !sweep.isEmpty()) && clock.nanoTime() - deadlineNs < 0) {
            while (pending.size() < concurrency && sendNext()) {
                // top up: keys that were busy with a load request are free once it is answered
            }
            poll();
        }
        return result();
    }

    /** The last acknowledged value of every key with an acknowledged write. */
    public SortedMap<Integer, Long> ackedValues() {
        SortedMap<Integer, Long> acked = new TreeMap<>();
        for (int k = 0; k < keys; k++) {
            if (ackedValue[k] > 0) {
                acked.put(k, ackedValue[k]);
            }
        }
        return Collections.unmodifiableSortedMap(acked);
    }

    private Result result() {
        long written = 0;
        long unverified = 0;
        for (int k = 0; k < keys; k++) {
            written += nextValue[k] > 0 ? 1 : 0;
            unverified += awaitingReadBack[k] ? 1 : 0;
        }
        return new Result(requests, answered, retries, errors, latencyNs, ackedWrites, lostAckedWrites, keysVerified,
                downtimeNs, List.copyOf(lostExamples), networkErrors, written, unverified,
                gaps.longest(clock.nanoTime()), gaps.longGaps());
    }

    private void poll() throws IOException {
        selector.select(SELECT_MILLIS);
        selector.selectedKeys().clear();
        drainReplies();
        retryOverdue();
    }

    private void drainReplies() throws IOException {
        while (true) {
            receiveBuffer.clear();
            try {
                if (channel.receive(receiveBuffer) == null) {
                    return;
                }
            } catch (SocketException e) {
                networkErrors++;
                return; // an ICMP error for an earlier send (nothing listening, no route); retries carry on
            }
            receiveBuffer.flip();
            ByteBuf buf = Unpooled.wrappedBuffer(receiveBuffer);
            KvProtocol.Reply reply = KvProtocol.Reply.parse(buf);
            Pending p = reply == null ? null : pending.remove(reply.requestId());
            if (p == null) {
                continue; // a duplicate answer to a retried request
            }
            long nowNs = clock.nanoTime();
            gaps.onAnswer(nowNs);
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
            sendNext();
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
                if (lostExamples.size() < LOST_EXAMPLES) {
                    lostExamples.add("key " + key + ": acknowledged " + ackedValue[key] + ", read back " + value);
                }
            }
            if (request.requestId() < 0) {
                keysVerified++;
                awaitingReadBack[key] = false;
            }
        }
    }

    /** Sends a read-back of a swept key if one is free, else (while the load runs) a new request. */
    private boolean sendNext() throws IOException {
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
            send(new KvProtocol.Request(-(nextRequestId++), KvProtocol.OP_GET, swept, 0));
            return true;
        }
        if (loadStopped) {
            return false;
        }
        int key;
        do {
            key = random.nextInt(keys);
        } while (busy[key]);
        send(random.nextInt(10) == 0
                ? new KvProtocol.Request(nextRequestId++, KvProtocol.OP_GET, key, 0)
                : new KvProtocol.Request(nextRequestId++, KvProtocol.OP_SET, key, ++nextValue[key]));
        return true;
    }

    private void send(KvProtocol.Request request) throws IOException {
        long nowNs = clock.nanoTime();
        busy[request.key()] = true;
        pending.put(request.requestId(), new Pending(request, nowNs));
        requests++;
        transmit(request, nowNs);
    }

    private void retryOverdue() throws IOException {
        long nowNs = clock.nanoTime();
        Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Pending p = it.next().getValue();
            if (nowNs - lastSentNs.get(p.request().requestId()) - retryAfterNs >= 0) {
                retries++;
                transmit(p.request(), nowNs);
            }
        }
    }

    private void transmit(KvProtocol.Request request, long nowNs) throws IOException {
        ByteBuf out = Unpooled.buffer(KvProtocol.REQUEST_BYTES);
        request.writeTo(out);
        lastSentNs.put(request.requestId(), nowNs);
        try {
            channel.write(out.nioBuffer());
        } catch (SocketException e) {
            // Nothing listens on the guest's address right now, or no route to it (failover under way, ARP
            // not answered yet): the retry resends it.
            networkErrors++;
        }
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
