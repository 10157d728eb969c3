package io.checkpointd.disk.nbd;

import io.checkpointd.disk.ImageZeroer;
import io.netty.buffer.ByteBuf;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one export of a server: its name and the image file behind it, with positional I/O that is safe
 * from any number of event loop threads at once (FileChannel positional reads and writes do not share a
 * file position).
 */
final class Export implements AutoCloseable {
    private final String name;
    private final Path image;
    private final FileChannel channel;
    private final ImageZeroer zeroer;
    private final long sizeBytes;
    private final boolean readOnly;
    private final int maxPayloadBytes;
    // Changes that reached the image, and how many of them the last fsyncs covered (data only, or with
    // metadata). Any connection's event loop may write or flush.
    private final AtomicLong changes = new AtomicLong();
    private final AtomicLong syncedData = new AtomicLong();
    private final AtomicLong syncedWithMetadata = new AtomicLong();

    private Export(String name, Path image, FileChannel channel, ImageZeroer zeroer, long sizeBytes,
                   boolean readOnly, int maxPayloadBytes) {
        this.name = name;
        this.image = image;
        this.channel = channel;
        this.zeroer = zeroer;
        this.sizeBytes = sizeBytes;
        this.readOnly = readOnly;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    static Export open(NbdServerConfig config) throws IOException {
        FileChannel channel = config.readOnly()
                ? FileChannel.open(config.image(), StandardOpenOption.READ)
                : FileChannel.open(config.image(), StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ImageZeroer zeroer = config.readOnly() ? null : ImageZeroer.open(config.image(), channel);
            return new Export(config.exportName(), config.image(), channel, zeroer, channel.size(),
                    config.readOnly(), config.maxPayloadBytes());
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    String name() {
        return name;
    }

    Path image() {
        return image;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    boolean readOnly() {
        return readOnly;
    }

    int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /** The transmission flags this export advertises. */
    int transmissionFlags() {
        int flags = Nbd.TX_FLAG_HAS_FLAGS | Nbd.TX_FLAG_SEND_FLUSH | Nbd.TX_FLAG_SEND_FUA;
        if (readOnly) {
            return flags | Nbd.TX_FLAG_READ_ONLY;
        }
        return flags | Nbd.TX_FLAG_SEND_TRIM | Nbd.TX_FLAG_SEND_WRITE_ZEROES | Nbd.TX_FLAG_SEND_FAST_ZERO;
    }

    /** True if {@code [offset, offset + length)} lies within the image ({@code offset} taken as unsigned). */
    boolean contains(long offset, long length) {
        return offset >= 0 && offset <= sizeBytes && length <= sizeBytes - offset;
    }

    /** Appends {@code length} bytes read at {@code offset} to {@code dst}. */
    void read(long offset, int length, ByteBuf dst) throws IOException {
        int done = 0;
        while (done < length) {
            int n = dst.writeBytes(channel, offset + done, length - done);
            if (n < 0) {
                throw new EOFException(image + " ended at " + (offset + done) + ", before its size " + sizeBytes);
            }
            done += n;
        }
    }

    /** Writes all readable bytes of {@code data} at {@code offset}, leaving its indices unchanged. */
    void write(long offset, ByteBuf data) throws IOException {
        int length = data.readableBytes();
        int index = data.readerIndex();
        int done = 0;
        while (done < length) {
            done += data.getBytes(index + done, channel, offset + done, length - done);
        }
        changes.incrementAndGet();
    }

    void zero(long offset, long length, boolean deallocate) throws IOException {
        zeroer.zero(offset, length, deallocate);
        changes.incrementAndGet();
    }

    boolean canZeroFast() {
        return zeroer != null && zeroer.canZeroFast();
    }

    /**
     * Makes completed writes durable; skips the fsync when nothing changed since the last one that covered
     * as much. QEMU flushes on every {@code stop} and again when a migration completes, once per block node
     * (twice with libvirt's raw-over-nbd layout): four fsyncs inside each checkpoint's pause, of which only
     * the first can have anything to write, since the guest is paused.
     *
     * @return whether an fsync was made
     * @param metadata also flush metadata: needed after trims and zeroing (block allocation changed); plain
     *                 writes into a fixed-size image only need the data
     */
    boolean force(boolean metadata) throws IOException {
        // Read before the fsync: the fsync then covers every change counted so far (each is counted once it
        // reached the image, before its reply), so a later force that sees the same count has nothing to do.
        long seen = changes.get();
        if (seen == (metadata ? syncedWithMetadata.get() : syncedData.get())) {
            return false;
        }
        channel.force(metadata);
        syncedData.accumulateAndGet(seen, Math::max);
        if (metadata) {
            syncedWithMetadata.accumulateAndGet(seen, Math::max);
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        if (zeroer != null) {
            zeroer.close();
        }
        channel.close();
    }
}
