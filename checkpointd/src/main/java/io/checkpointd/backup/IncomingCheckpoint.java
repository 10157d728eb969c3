package io.checkpointd.backup;

import io.checkpointd.dirty.DirtyPageSet;
import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.disk.replica.DiskReplica;
import io.checkpointd.replication.wire.DeviceState;
import io.checkpointd.replication.wire.DiskWrite;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import io.checkpointd.replication.wire.Pages;
import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * One checkpoint being received: its pages are decoded into the store's staging area (never the replica),
 * its device state into memory, and every count and page number is checked against what BEGIN announced
 * and what the replica can hold, before anything is written.
 *
 * <p>Two layouts of staging. An incremental checkpoint's pages are stored in arrival order (slot i holds
 * {@code pageNumbers[i]}), exactly the number BEGIN announced. A full checkpoint is staged as a whole RAM
 * image, each page at its own address, because a live pre-copy sends pages in rounds and a page may come
 * several times (the last copy wins); it commits only if every page of RAM arrived at least once, and the
 * pages sent are bounded by {@link #MAX_FULL_PAGES_PER_RAM_PAGE} times RAM.
 *
 * <p>Public for the send-path benchmark in bench/, which receives checkpoints without a session.
 */
public final class IncomingCheckpoint {
    private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();
    /** Pre-copy stops after sending 3x RAM; the final part adds at most one more RAM. */
    static final int MAX_FULL_PAGES_PER_RAM_PAGE = 4;

    private final CheckpointBegin begin;
    private final ReplicaStore store;
    private final long[] pageNumbers;
    private final DirtyPageSet covered;
    private final long maxDeviceStateBytes;
    private byte[] deviceState;
    private final CRC32C digest = new CRC32C();
    private int pagesReceived;
    private int deviceStateReceived;
    private long diskWrites;

    public IncomingCheckpoint(CheckpointBegin begin, ReplicaStore store, long maxDeviceStateBytes)
            throws ProtocolViolation {
        if (begin.full() && begin.pageCount() != store.pageCount()) {
            throw new ProtocolViolation("CKPT_BEGIN " + begin.epoch() + ": a full checkpoint covers all "
                    + store.pageCount() + " pages, not " + begin.pageCount());
        }
        if (begin.pageCount() < 0 || begin.pageCount() > store.pageCount()) {
            throw new ProtocolViolation("CKPT_BEGIN " + begin.epoch() + ": page count " + begin.pageCount()
                    + " outside [0, " + store.pageCount() + "] (the guest's page count)");
        }
        if (begin.deviceStateBytes() < 0 || begin.deviceStateBytes() > maxDeviceStateBytes) {
            throw new ProtocolViolation("CKPT_BEGIN " + begin.epoch() + ": device state of " + begin.deviceStateBytes()
                    + " bytes outside [0, " + maxDeviceStateBytes + "]");
        }
        this.begin = begin;
        this.store = store;
        this.maxDeviceStateBytes = maxDeviceStateBytes;
        this.pageNumbers = begin.full() ? null : new long[(int) begin.pageCount()];
        this.covered = begin.full() ? new DirtyPageSet(store.pageCount()) : null;
        // A live full checkpoint's device state is captured at its end; BEGIN cannot know its size.
        this.deviceState = new byte[(int) begin.deviceStateBytes()];
    }

    long epoch() {
        return begin.epoch();
    }

    boolean full() {
        return begin.full();
    }

    String progress() {
        return pagesReceived + "/" + begin.pageCount() + " pages, " + diskWrites + " disk writes, "
                + deviceStateReceived + "/" + begin.deviceStateBytes() + " device-state bytes";
    }

    public void onPages(Pages pages) throws ProtocolViolation {
        checkEpoch("PAGES", pages.epoch());
        if (deviceStateReceived > 0) {
            throw new ProtocolViolation("PAGES after DEVICE_STATE in checkpoint " + epoch());
        }
        long[] numbers = pages.pageNumbers();
        long limit = begin.full() ? MAX_FULL_PAGES_PER_RAM_PAGE * store.pageCount() : begin.pageCount();
        if (pagesReceived + (long) numbers.length > limit) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": more than " + limit + " pages"
                    + (begin.full() ? " (" + MAX_FULL_PAGES_PER_RAM_PAGE + "x RAM) in a full checkpoint" : " announced"));
        }
        for (long n : numbers) {
            if (n < 0 || n >= store.pageCount()) {
                throw new ProtocolViolation("checkpoint " + epoch() + ": page number " + n + " outside [0, "
                        + store.pageCount() + ")");
            }
        }
        int pageSize = store.pageSizeBytes();
        int expectedBytes = numbers.length * pageSize;
        // Full: decode into the scratch area, then place each page at its address. Incremental: in order.
        MemorySegment slot = begin.full() ? store.scratch(expectedBytes)
                : store.staging().asSlice((long) pagesReceived * pageSize, expectedBytes);
        ByteBuffer target = slot.asByteBuffer();
        ByteBuf data = pages.data();
        switch (pages.encoding()) {
            case RAW -> {
                if (data.readableBytes() != expectedBytes) {
                    throw new ProtocolViolation("checkpoint " + epoch() + ": RAW PAGES frame holds "
                            + data.readableBytes() + " bytes for " + numbers.length + " pages of " + pageSize);
                }
                data.getBytes(data.readerIndex(), target);
            }
            case LZ4 -> {
                int decoded;
                try {
                    decoded = LZ4.decompress(data.nioBuffer(), 0, data.readableBytes(), target, 0, expectedBytes);
                } catch (LZ4Exception e) {
                    throw new ProtocolViolation("checkpoint " + epoch() + ": LZ4 data does not decode: " + e.getMessage());
                }
                if (decoded != expectedBytes) {
                    throw new ProtocolViolation("checkpoint " + epoch() + ": LZ4 data decodes to " + decoded
                            + " bytes, expected " + expectedBytes);
                }
            }
        }
        digest.update(slot.asByteBuffer());
        if (begin.full()) {
            for (int i = 0; i < numbers.length; i++) {
                MemorySegment.copy(slot, (long) i * pageSize, store.staging(), numbers[i] * pageSize, pageSize);
                covered.add(numbers[i]);
            }
        } else {
            System.arraycopy(numbers, 0, pageNumbers, pagesReceived, numbers.length);
        }
        pagesReceived += numbers.length;
    }

    void onDiskWrite(DiskWrite write) throws ProtocolViolation, IOException {
        checkEpoch("DISK_WRITE", write.epoch());
        DiskReplica disk = store.disk();
        if (disk == null) {
            throw new ProtocolViolation("DISK_WRITE in checkpoint " + epoch() + ", but HELLO described no disk");
        }
        if (write.offsetBytes() + write.lengthBytes() > disk.sizeBytes() || write.offsetBytes() + write.lengthBytes() < 0) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": disk write of " + write.lengthBytes() + " bytes at "
                    + write.offsetBytes() + " lies outside the " + disk.sizeBytes() + "-byte disk");
        }
        io.checkpointd.disk.DiskWrite change = switch (write.kind()) {
            case WRITE -> io.checkpointd.disk.DiskWrite.write(write.offsetBytes(), ByteBufUtil.getBytes(write.data()));
            case TRIM -> io.checkpointd.disk.DiskWrite.trim(write.offsetBytes(), write.lengthBytes());
            case ZEROES -> io.checkpointd.disk.DiskWrite.zeroes(write.offsetBytes(), write.lengthBytes());
        };
        disk.append(epoch(), change);
        diskWrites++;
    }

    /** The checkpoint is thrown away: so are its buffered disk changes. */
    void discardDisk() {
        DiskReplica disk = store.disk();
        if (disk != null && diskWrites > 0) {
            try {
                disk.discard(epoch());
            } catch (IOException | RuntimeException e) {
                // The spill file stays; the next open of the replica deals with it.
            }
        }
    }

    public void onDeviceState(DeviceState chunk) throws ProtocolViolation {
        checkEpoch("DEVICE_STATE", chunk.epoch());
        int len = chunk.data().readableBytes();
        long after = deviceStateReceived + (long) len;
        if (begin.full() && after > deviceState.length && after <= maxDeviceStateBytes) {
            deviceState = java.util.Arrays.copyOf(deviceState, (int) Math.max(after, 2L * deviceState.length));
        }
        if (after > deviceState.length) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": more device state than the "
                    + (begin.full() ? maxDeviceStateBytes + " bytes allowed" : deviceState.length + " bytes announced"));
        }
        chunk.data().getBytes(chunk.data().readerIndex(), deviceState, deviceStateReceived, len);
        deviceStateReceived += len;
    }

    /** Verifies END against what arrived; on success the checkpoint may be committed. */
    public void verify(CheckpointEnd end) throws ProtocolViolation {
        checkEpoch("CKPT_END", end.epoch());
        if (end.pageCount() != pagesReceived || (!begin.full() && pagesReceived != begin.pageCount())) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": END says " + end.pageCount()
                    + " pages, BEGIN said " + begin.pageCount() + ", received " + pagesReceived);
        }
        if (begin.full() && covered.count() != store.pageCount()) {
            throw new ProtocolViolation("full checkpoint " + epoch() + " left " + (store.pageCount() - covered.count())
                    + " pages of RAM unsent (first: " + covered.nextClearPage(0) + ")");
        }
        if (!begin.full() && deviceState.length != end.deviceStateBytes()) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": END says " + end.deviceStateBytes()
                    + " device-state bytes, BEGIN said " + deviceState.length);
        }
        if (end.deviceStateBytes() != deviceStateReceived) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": END says " + end.deviceStateBytes()
                    + " device-state bytes, received " + deviceStateReceived);
        }
        if (deviceState.length != deviceStateReceived) {
            deviceState = java.util.Arrays.copyOf(deviceState, deviceStateReceived);
        }
        digest.update(deviceState);
        if (digest.getValue() != end.digest()) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": digest mismatch (received data "
                    + Long.toHexString(digest.getValue()) + ", END " + Long.toHexString(end.digest()) + ")");
        }
    }

    long[] pageNumbers() {
        return pageNumbers;
    }

    int pagesReceived() {
        return pagesReceived;
    }

    byte[] deviceState() {
        return deviceState;
    }

    private void checkEpoch(String frame, long epoch) throws ProtocolViolation {
        if (epoch != begin.epoch()) {
            throw new ProtocolViolation(frame + " of epoch " + epoch + " inside checkpoint " + begin.epoch());
        }
    }
}
