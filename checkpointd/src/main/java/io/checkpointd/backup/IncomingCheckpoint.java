package io.checkpointd.backup;

import io.checkpointd.replication.wire.CheckpointBegin;
import io.checkpointd.replication.wire.CheckpointEnd;
import io.checkpointd.replication.wire.DeviceState;
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
 */
final class IncomingCheckpoint {
    private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();

    private final CheckpointBegin begin;
    private final ReplicaStore store;
    private final long[] pageNumbers;
    private final byte[] deviceState;
    private final CRC32C digest = new CRC32C();
    private int pagesReceived;
    private int deviceStateReceived;

    IncomingCheckpoint(CheckpointBegin begin, ReplicaStore store, long maxDeviceStateBytes) throws ProtocolViolation {
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
        this.pageNumbers = new long[(int) begin.pageCount()];
        this.deviceState = new byte[(int) begin.deviceStateBytes()];
    }

    long epoch() {
        return begin.epoch();
    }

    boolean full() {
        return begin.full();
    }

    String progress() {
        return pagesReceived + "/" + begin.pageCount() + " pages, " + deviceStateReceived + "/"
                + begin.deviceStateBytes() + " device-state bytes";
    }

    void onPages(Pages pages) throws ProtocolViolation {
        checkEpoch("PAGES", pages.epoch());
        if (deviceStateReceived > 0) {
            throw new ProtocolViolation("PAGES after DEVICE_STATE in checkpoint " + epoch());
        }
        long[] numbers = pages.pageNumbers();
        if (pagesReceived + (long) numbers.length > begin.pageCount()) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": more pages than the " + begin.pageCount()
                    + " announced");
        }
        for (long n : numbers) {
            if (n < 0 || n >= store.pageCount()) {
                throw new ProtocolViolation("checkpoint " + epoch() + ": page number " + n + " outside [0, "
                        + store.pageCount() + ")");
            }
        }
        int pageSize = store.pageSizeBytes();
        int expectedBytes = numbers.length * pageSize;
        MemorySegment slot = store.staging().asSlice((long) pagesReceived * pageSize, expectedBytes);
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
        System.arraycopy(numbers, 0, pageNumbers, pagesReceived, numbers.length);
        pagesReceived += numbers.length;
    }

    void onDeviceState(DeviceState chunk) throws ProtocolViolation {
        checkEpoch("DEVICE_STATE", chunk.epoch());
        int len = chunk.data().readableBytes();
        if (deviceStateReceived + (long) len > deviceState.length) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": more device state than the "
                    + deviceState.length + " bytes announced");
        }
        chunk.data().getBytes(chunk.data().readerIndex(), deviceState, deviceStateReceived, len);
        deviceStateReceived += len;
    }

    /** Verifies END against what arrived; on success the checkpoint may be committed. */
    void verify(CheckpointEnd end) throws ProtocolViolation {
        checkEpoch("CKPT_END", end.epoch());
        if (end.pageCount() != begin.pageCount() || pagesReceived != begin.pageCount()) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": END says " + end.pageCount()
                    + " pages, BEGIN said " + begin.pageCount() + ", received " + pagesReceived);
        }
        if (end.deviceStateBytes() != deviceState.length || deviceStateReceived != deviceState.length) {
            throw new ProtocolViolation("checkpoint " + epoch() + ": END says " + end.deviceStateBytes()
                    + " device-state bytes, BEGIN said " + deviceState.length + ", received " + deviceStateReceived);
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
