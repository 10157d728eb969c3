package io.checkpointd.primary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Staging buffers for checkpoints between pause and the end of sending. The epoch loop takes one per
 * checkpoint; the sender gives it back once encoded. At most {@code maxInFlight} are out at once (the
 * epoch loop waits for acknowledgements before that), so the pool never allocates more than that.
 *
 * <p>Public for the send-path benchmark in bench/, which builds a sender.
 */
public final class StagingPool implements AutoCloseable {
    private final int pageSizeBytes;
    private final ConcurrentLinkedQueue<Staging> free = new ConcurrentLinkedQueue<>();
    private final List<Staging> all = new ArrayList<>();
    private final Arena roundArena = Arena.ofShared();
    private MemorySegment roundBuffer = MemorySegment.NULL;

    public StagingPool(int pageSizeBytes) {
        this.pageSizeBytes = pageSizeBytes;
    }

    /**
     * Creates {@code buffers} staging buffers of {@code pages} pages each, before any pause: without this the
     * first epochs allocate (and zero, and fault in) their buffers while the guest is stopped.
     */
    void reserve(int buffers, int pages) {
        for (int i = 0; i < buffers; i++) {
            Staging s = new Staging(pageSizeBytes);
            s.reserve(pages);
            synchronized (all) {
                all.add(s);
            }
            free.add(s);
        }
    }

    /** Called by the epoch loop only. */
    Staging acquire() {
        Staging s = free.poll();
        if (s == null) {
            s = new Staging(pageSizeBytes);
            synchronized (all) {
                all.add(s);
            }
        }
        return s;
    }

    /** The sender's scratch buffer for live pre-copy batches (sender thread only). */
    MemorySegment roundBuffer(long bytes) {
        if (roundBuffer.byteSize() < bytes) {
            roundBuffer = roundArena.allocate(bytes, 4096);
        }
        return roundBuffer;
    }

    void release(Staging staging) {
        free.add(staging);
    }


    @Override
    public void close() {
        synchronized (all) {
            all.forEach(Staging::close);
        }
        roundArena.close();
    }
}
