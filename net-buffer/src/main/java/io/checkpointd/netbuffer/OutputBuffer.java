package io.checkpointd.netbuffer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The output-commit queue: guest egress frames held until the backup acknowledges the checkpoint that
 * produced them (Remus's buffering qdisc with its CHECKPOINT and RELEASE commands, in the shape of Netty's
 * {@code PendingWriteQueue}).
 *
 * <p>Frames are {@linkplain #add added} to the open epoch. {@link #barrier(long) barrier(N)}, inserted while
 * the guest is paused for checkpoint N, closes it: every frame added before belongs to checkpoint N. When
 * the backup acknowledges N, {@link #releaseUpTo releaseUpTo(N, ...)} hands those frames on, in the order
 * they were added. No frame ever leaves before an acknowledgement that covers its barrier.
 *
 * <p>Ownership: a frame passed to {@code add} belongs to the buffer. It leaves exactly once: handed to a
 * sink (which then owns it and must release it), or freed here when dropped or discarded.
 *
 * <p>When full, the new frame is dropped (tail drop, as a full NIC queue does); a held frame is never sent
 * early to make room, since that would publish state the backup does not have.
 *
 * <p>There is no pass-through mode: {@code add} always holds or drops. When protection is off (backup
 * dead), the owner calls {@link #releaseAll} once and then writes frames straight to the network instead
 * of calling {@code add}; the buffer stays usable for when protection resumes.
 *
 * <p><b>Not thread-safe, by design</b>: one owner thread (the Netty event loop of the guest's frame
 * bridge) makes every call. Other threads hand barriers and acknowledgements to it through its task queue.
 * Only the meters may be read from other threads. Time is always a parameter, in the
 * {@link System#nanoTime()} timebase; the buffer never reads a clock.
 *
 * <p>Meters (Prometheus names), each with the tags given to the constructor:
 * <ul>
 *   <li>{@code checkpointd_netbuffer_held_frames}, {@code checkpointd_netbuffer_held_bytes} (gauges);</li>
 *   <li>{@code checkpointd_netbuffer_released_frames_total}, {@code checkpointd_netbuffer_released_bytes_total};</li>
 *   <li>{@code checkpointd_netbuffer_dropped_frames_total}, {@code checkpointd_netbuffer_dropped_bytes_total},
 *       tagged {@code reason="full"} (tail drop) or {@code reason="shutdown"} ({@link #discardAll});</li>
 *   <li>{@code checkpointd_netbuffer_release_latency_seconds} (histogram: time from add to release).</li>
 * </ul>
 */
public final class OutputBuffer implements AutoCloseable {
    /** Returned by {@link #lastReleasedEpoch()} before any barrier has been released. */
    public static final long NO_EPOCH = -1;

    private final long maxHeldBytes;
    private final int maxHeldFrames;
    private final OutputBufferMetrics metrics;

    private final ArrayDeque<Held> frames = new ArrayDeque<>();
    private final ArrayDeque<Barrier> barriers = new ArrayDeque<>();
    /** Sequence number the next held frame gets; barriers point into this sequence. */
    private long nextSeq;
    /** Frames with a smaller sequence number are acknowledged; any release call sends them. */
    private long releasableEndSeq;
    private long lastBarrierEpoch = NO_EPOCH;
    private long lastReleasedEpoch = NO_EPOCH;
    private long heldBytes;

    /**
     * @param maxHeldBytes  most bytes held at once, over all epochs (> 0)
     * @param maxHeldFrames most frames held at once, over all epochs (> 0)
     * @param registry      where the meters are registered
     * @param tags          tags that tell this buffer apart (e.g. {@code domain}); two live buffers with the
     *                      same tags would share meters
     */
    public OutputBuffer(long maxHeldBytes, int maxHeldFrames, MeterRegistry registry, Iterable<Tag> tags) {
        if (maxHeldBytes <= 0) {
            throw new IllegalArgumentException("maxHeldBytes must be > 0: " + maxHeldBytes);
        }
        if (maxHeldFrames <= 0) {
            throw new IllegalArgumentException("maxHeldFrames must be > 0: " + maxHeldFrames);
        }
        this.maxHeldBytes = maxHeldBytes;
        this.maxHeldFrames = maxHeldFrames;
        this.metrics = new OutputBufferMetrics(Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(tags, "tags"));
    }

    /**
     * Holds {@code frame} in the open epoch. If holding it would exceed {@code maxHeldBytes} or
     * {@code maxHeldFrames}, frees it instead and counts it as dropped.
     *
     * @param frame the frame; ownership passes to the buffer either way
     * @param nowNs the current time, for the release latency
     * @return true if held, false if dropped
     */
    public boolean add(ByteBuf frame, long nowNs) {
        Objects.requireNonNull(frame, "frame");
        int bytes = frame.readableBytes();
        if (frames.size() >= maxHeldFrames || bytes > maxHeldBytes - heldBytes) {
            ReferenceCountUtil.safeRelease(frame);
            metrics.droppedFull(bytes);
            return false;
        }
        frames.addLast(new Held(frame, bytes, nextSeq++, nowNs));
        heldBytes += bytes;
        metrics.held(frames.size(), heldBytes);
        return true;
    }

    /**
     * Closes the open epoch: every frame added so far and not yet under a barrier belongs to checkpoint
     * {@code epoch}. Call it while the guest is paused for that checkpoint, before the checkpoint is sent.
     *
     * @throws IllegalArgumentException unless {@code epoch} is greater than every earlier barrier's epoch
     *                                  (epochs are non-negative)
     */
    public void barrier(long epoch) {
        if (epoch <= lastBarrierEpoch) {
            throw new IllegalArgumentException("barrier epoch " + epoch
                    + " must be greater than the previous barrier epoch " + lastBarrierEpoch);
        }
        barriers.addLast(new Barrier(epoch, nextSeq));
        lastBarrierEpoch = epoch;
    }

    /**
     * The backup acknowledged checkpoint {@code ackedEpoch}: hands {@code sink} every frame under a barrier
     * with epoch {@code <= ackedEpoch}, in the order they were added. Frames of later barriers and of the
     * open epoch stay. An acknowledgement only covers barriers present at the call; an old or repeated one
     * releases nothing.
     *
     * <p>If {@code sink} throws, the frame it was given is the sink's; the rest stay held and go out on
     * the next release call.
     *
     * @return the number of frames handed to {@code sink}
     */
    public int releaseUpTo(long ackedEpoch, long nowNs, Consumer<ByteBuf> sink) {
        Objects.requireNonNull(sink, "sink");
        while (!barriers.isEmpty() && barriers.peekFirst().epoch() <= ackedEpoch) {
            Barrier acked = barriers.pollFirst();
            releasableEndSeq = acked.endSeq();
            lastReleasedEpoch = acked.epoch();
        }
        return drain(nowNs, sink);
    }

    /**
     * Protection is gone (the backup is dead): hands {@code sink} every held frame in the order added,
     * barriers or not, and forgets the barriers. The buffer stays usable; later barriers must still have
     * greater epochs than earlier ones.
     *
     * @return the number of frames handed to {@code sink}
     */
    public int releaseAll(long nowNs, Consumer<ByteBuf> sink) {
        Objects.requireNonNull(sink, "sink");
        if (!barriers.isEmpty()) {
            lastReleasedEpoch = barriers.peekLast().epoch();
            barriers.clear();
        }
        releasableEndSeq = nextSeq;
        return drain(nowNs, sink);
    }

    /** Frees every held frame without sending it (shutdown), counted as dropped, and forgets the barriers. */
    public void discardAll() {
        Held held;
        while ((held = frames.pollFirst()) != null) {
            heldBytes -= held.bytes();
            ReferenceCountUtil.safeRelease(held.frame());
            metrics.droppedShutdown(held.bytes());
        }
        barriers.clear();
        releasableEndSeq = nextSeq;
        metrics.held(0, 0);
    }

    /** Discards every held frame and unregisters the meters. */
    @Override
    public void close() {
        discardAll();
        metrics.close();
    }

    public int heldFrames() {
        return frames.size();
    }

    public long heldBytes() {
        return heldBytes;
    }

    /**
     * The epoch of the newest barrier whose frames have all been released (by acknowledgement or
     * {@link #releaseAll}), or {@link #NO_EPOCH}.
     */
    public long lastReleasedEpoch() {
        return lastReleasedEpoch;
    }

    private int drain(long nowNs, Consumer<ByteBuf> sink) {
        int released = 0;
        while (!frames.isEmpty() && frames.peekFirst().seq() < releasableEndSeq) {
            Held held = frames.pollFirst();
            heldBytes -= held.bytes();
            metrics.released(held.bytes(), nowNs - held.addedNs());
            released++;
            // Accounting is done before the hand-over so a throwing sink leaves the buffer consistent.
            metrics.held(frames.size(), heldBytes);
            sink.accept(held.frame());
        }
        return released;
    }

    /** A held frame; {@code seq} orders it against the barriers. */
    private record Held(ByteBuf frame, int bytes, long seq, long addedNs) {
    }

    /** Closes checkpoint {@code epoch}: frames with {@code seq < endSeq} belong to it or to earlier ones. */
    private record Barrier(long epoch, long endSeq) {
    }
}
