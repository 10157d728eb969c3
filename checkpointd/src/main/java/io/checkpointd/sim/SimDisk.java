package io.checkpointd.sim;

import io.checkpointd.disk.WriteListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The sim guest's disk: a raw image its service appends a log to. Every write goes to the image at once
 * (write-through, as Remus's primary does) and to a {@link WriteListener}, the same hook disk-mirror's NBD
 * server calls for a QEMU guest, so the write reaches the backup with the epoch it belongs to.
 *
 * <pre>
 * log record (32 bytes, at (sequence mod records) * 32):
 *  0 int64 magic "CKPTLOG1"   8 int64 sequence (the service's served counter)   16 int32 key   20 int64 value
 * </pre>
 */
public final class SimDisk implements AutoCloseable {
    public static final int RECORD_BYTES = 32;
    public static final long MAGIC = 0x434B50544C4F4731L; // "CKPTLOG1"

    private final FileChannel image;
    private final long sizeBytes;
    private final WriteListener listener;

    private SimDisk(FileChannel image, long sizeBytes, WriteListener listener) {
        this.image = image;
        this.sizeBytes = sizeBytes;
        this.listener = listener;
    }

    /** Opens (creating it sparse if absent) the image at {@code path}, exactly {@code sizeBytes} long. */
    public static SimDisk open(Path path, long sizeBytes, WriteListener listener) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        if (channel.size() != sizeBytes) {
            channel.truncate(Math.min(channel.size(), sizeBytes));
            if (channel.size() < sizeBytes) {
                channel.write(java.nio.ByteBuffer.wrap(new byte[1]), sizeBytes - 1);
            }
        }
        return new SimDisk(channel, sizeBytes, listener);
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** Appends the record of update {@code sequence}; called by the service inside the safepoint. */
    void log(long sequence, int key, long value) {
        ByteBuf record = Unpooled.buffer(RECORD_BYTES, RECORD_BYTES);
        record.writeLong(MAGIC).writeLong(sequence).writeInt(key).writeLong(value).writeZero(4);
        long offset = Math.floorMod(sequence, sizeBytes / RECORD_BYTES) * RECORD_BYTES;
        try {
            image.write(record.nioBuffer(), offset);
        } catch (IOException e) {
            throw new UncheckedIOException("sim disk write at " + offset, e);
        }
        listener.onWrite(offset, record);
        record.release();
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
