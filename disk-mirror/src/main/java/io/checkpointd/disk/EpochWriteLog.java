package io.checkpointd.disk;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The primary side of disk mirroring: collects the changes the NBD server makes to the image, per epoch.
 *
 * <p>The server calls the {@link WriteListener} methods as changes happen; they belong to the open epoch.
 * The epoch loop calls {@link #closeEpoch(long) closeEpoch(N)} while the guest is paused for checkpoint N:
 * it takes everything recorded since the previous close and opens the next epoch. The changes then travel
 * to the backup with checkpoint N and are applied there only when N commits.
 *
 * <p><b>Threads.</b> Changes arrive on NBD event loop threads, {@code closeEpoch} on the epoch loop thread.
 * One lock guards the open epoch, held only to append a record or to swap the list out; the data is copied
 * before the lock is taken. The guest is paused during {@code closeEpoch}, so in practice nobody waits on
 * that lock: it exists for correctness, not to arbitrate traffic. (A queue handed over to the epoch loop
 * would do the same with more moving parts.)
 *
 * <p><b>Bound.</b> The open epoch holds at most {@code maxHeldBytes} (records count their data plus
 * {@link DiskWrite#RECORD_OVERHEAD_BYTES}). A change that would exceed it marks the epoch overflowed: its
 * records are freed at once and later changes of the same epoch are only counted. The guest is never
 * slowed down; instead {@code closeEpoch} reports {@link EpochWrites#overflowed()} and the epoch loop must
 * resynchronise the whole disk. Size the budget above the largest write burst one epoch can see (a guest
 * writing 500 MB/s with 100 ms epochs needs 50 MB).
 *
 * <p>Meters: see {@link EpochWriteLogMetrics}.
 */
public final class EpochWriteLog implements WriteListener, AutoCloseable {
    /** Returned by {@link #lastClosedEpoch()} before the first close. */
    public static final long NO_EPOCH = -1;

    private final long maxHeldBytes;
    private final EpochWriteLogMetrics metrics;

    private final Object lock = new Object();
    // Guarded by lock.
    private ArrayList<DiskWrite> open = new ArrayList<>();
    private long openHeldBytes;
    private boolean openOverflowed;
    private long lastClosedEpoch = NO_EPOCH;

    /**
     * @param maxHeldBytes most bytes the open epoch may hold (> 0)
     * @param registry     where the meters are registered
     * @param tags         tags that tell this log apart (e.g. {@code domain}, {@code disk})
     */
    public EpochWriteLog(long maxHeldBytes, MeterRegistry registry, Iterable<Tag> tags) {
        if (maxHeldBytes <= 0) {
            throw new IllegalArgumentException("maxHeldBytes must be > 0: " + maxHeldBytes);
        }
        this.maxHeldBytes = maxHeldBytes;
        this.metrics = new EpochWriteLogMetrics(Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(tags, "tags"));
    }

    @Override
    public void onWrite(long offset, ByteBuf data) {
        // The copy is made outside the lock so the lock is held for an append only.
        byte[] bytes = ByteBufUtil.getBytes(data, data.readerIndex(), data.readableBytes());
        record(DiskWrite.write(offset, bytes));
    }

    @Override
    public void onTrim(long offset, long length) {
        record(DiskWrite.trim(offset, length));
    }

    @Override
    public void onZeroes(long offset, long length) {
        record(DiskWrite.zeroes(offset, length));
    }

    private void record(DiskWrite write) {
        long bytes = write.heldBytes();
        synchronized (lock) {
            if (!openOverflowed && bytes <= maxHeldBytes - openHeldBytes) {
                open.add(write);
                openHeldBytes += bytes;
                metrics.held(openHeldBytes);
                return;
            }
            if (!openOverflowed) {
                openOverflowed = true;
                metrics.overflowed(openHeldBytes);
                open = new ArrayList<>();
                openHeldBytes = 0;
                metrics.held(0);
            }
            metrics.droppedAfterOverflow(bytes);
        }
    }

    /**
     * Closes the open epoch as {@code epoch} and opens the next one. Call it while the guest is paused.
     *
     * @return the epoch's changes in the order they were applied to the image; the caller owns them
     * @throws IllegalArgumentException unless {@code epoch} is greater than every earlier closed epoch
     */
    public EpochWrites closeEpoch(long epoch) {
        List<DiskWrite> writes;
        long heldBytes;
        boolean overflowed;
        synchronized (lock) {
            if (epoch <= lastClosedEpoch) {
                throw new IllegalArgumentException("epoch " + epoch + " must be greater than the last closed epoch "
                        + lastClosedEpoch);
            }
            writes = open;
            heldBytes = openHeldBytes;
            overflowed = openOverflowed;
            open = new ArrayList<>();
            openHeldBytes = 0;
            openOverflowed = false;
            lastClosedEpoch = epoch;
            metrics.held(0);
        }
        metrics.closed(heldBytes);
        return new EpochWrites(epoch, writes, heldBytes, overflowed);
    }

    /** Bytes the open epoch holds now. */
    public long heldBytes() {
        synchronized (lock) {
            return openHeldBytes;
        }
    }

    public long lastClosedEpoch() {
        synchronized (lock) {
            return lastClosedEpoch;
        }
    }

    /** Frees the open epoch's records and unregisters the meters. */
    @Override
    public void close() {
        synchronized (lock) {
            open = new ArrayList<>();
            openHeldBytes = 0;
        }
        metrics.close();
    }
}
