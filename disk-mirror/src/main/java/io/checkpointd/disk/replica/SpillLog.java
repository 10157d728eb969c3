package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One epoch's disk changes on disk ({@code spill-<epoch>.log}): where the replica keeps an epoch that does
 * not fit its memory budget, and what lets a backup that died mid-apply finish the job.
 *
 * <pre>
 * file header (16 bytes):          record (24-byte header, then data):
 *   0  magic  u64  "CKDSPIL1"        0  kind      u8    1 WRITE, 2 TRIM, 3 ZEROES
 *   8  epoch  u64                    1  reserved  3 bytes, zero
 *                                    4  crc       u32   CRC32C of bytes 8..23 and of the data
 *                                    8  offset    u64
 *                                   16  length    u64
 *                                   24  data      length bytes, WRITE only
 * </pre>
 *
 * Big-endian. Records follow each other to the end of the file, in the order they were appended. On
 * reading, everything is checked before use: magic and epoch, each record's kind, reserved bytes, range
 * (within the disk), that its data lies within the file, and its CRC; any failure is an
 * {@link InconsistentReplicaException}. Data is streamed in 1 MiB chunks, never held whole.
 */
final class SpillLog implements AutoCloseable {
    static final long MAGIC = 0x434b445350494c31L; // "CKDSPIL1"
    static final int FILE_HEADER_BYTES = 16;
    static final int RECORD_HEADER_BYTES = 24;
    static final int KIND_OFFSET = 0;
    static final int RESERVED_OFFSET = 1;
    static final int CRC_OFFSET = 4;
    static final int RANGE_OFFSET = 8;
    static final int OFFSET_OFFSET = 8;
    static final int LENGTH_OFFSET = 16;
    static final int CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER_BYTES);
    private final CRC32C crc = new CRC32C();
    private long sizeBytes;

    private SpillLog(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    static Path fileFor(Path dir, long epoch) {
        return dir.resolve("spill-" + epoch + ".log");
    }

    /** Creates (or truncates) the spill log of {@code epoch} in {@code dir}, ready for appends. */
    static SpillLog create(Path dir, long epoch) throws IOException {
        Path file = fileFor(dir, epoch);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        SpillLog log = new SpillLog(file, channel);
        ByteBuffer fileHeader = ByteBuffer.allocate(FILE_HEADER_BYTES).putLong(MAGIC).putLong(epoch).flip();
        log.writeFully(fileHeader);
        return log;
    }

    Path file() {
        return file;
    }

    /** Bytes written so far, headers included. */
    long sizeBytes() {
        return sizeBytes;
    }

    void append(DiskWrite write) throws IOException {
        header.clear();
        header.put(kindCode(write.kind())).put((byte) 0).putShort((short) 0).putInt(0)
                .putLong(write.offset()).putLong(write.length()).flip();
        crc.reset();
        crc.update(header.array(), RANGE_OFFSET, RECORD_HEADER_BYTES - RANGE_OFFSET);
        if (write.data() != null) {
            crc.update(write.data());
        }
        header.putInt(CRC_OFFSET, (int) crc.getValue());
        writeFully(header);
        if (write.data() != null) {
            writeFully(ByteBuffer.wrap(write.data()));
        }
    }

    /** Makes everything appended durable. */
    void force() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void writeFully(ByteBuffer bytes) throws IOException {
        sizeBytes += bytes.remaining();
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static byte kindCode(DiskWrite.Kind kind) {
        return switch (kind) {
            case WRITE -> 1;
            case TRIM -> 2;
            case ZEROES -> 3;
        };
    }

    private static DiskWrite.Kind kindOf(int code) {
        return switch (code) {
            case 1 -> DiskWrite.Kind.WRITE;
            case 2 -> DiskWrite.Kind.TRIM;
            case 3 -> DiskWrite.Kind.ZEROES;
            default -> null;
        };
    }

    /** Receives the records of a spill log, in order; the data of a WRITE is read from {@code spill}. */
    interface RecordSink {
        void record(DiskWrite.Kind kind, long offset, long length, FileChannel spill, long dataPosition)
                throws IOException;
    }

    /**
     * Reads the spill log {@code file} of {@code epoch} and checks all of it (see the class comment), giving
     * each record to {@code sink} once it is checked. Call it once with a sink that does nothing to learn
     * that the whole log is sound before acting on any record.
     *
     * @param diskSizeBytes the disk's size: every record's range must lie within it
     * @return the number of records
     * @throws InconsistentReplicaException if the log is damaged
     */
    static int scan(Path file, long epoch, long diskSizeBytes, RecordSink sink) throws IOException {
        try (FileChannel spill = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileBytes = spill.size();
            ByteBuffer fileHeader = ByteBuffer.allocate(FILE_HEADER_BYTES);
            if (fileBytes < FILE_HEADER_BYTES || !readFully(spill, fileHeader, 0)) {
                throw damaged(file, epoch, "shorter than its header");
            }
            if (fileHeader.getLong(0) != MAGIC || fileHeader.getLong(8) != epoch) {
                throw damaged(file, epoch, "wrong magic or epoch");
            }
            ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER_BYTES);
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);
            CRC32C crc = new CRC32C();
            long position = FILE_HEADER_BYTES;
            int records = 0;
            while (position < fileBytes) {
                if (fileBytes - position < RECORD_HEADER_BYTES || !readFully(spill, header.clear(), position)) {
                    throw damaged(file, epoch, "record " + records + " is cut short");
                }
                DiskWrite.Kind kind = kindOf(header.get(KIND_OFFSET));
                long offset = header.getLong(OFFSET_OFFSET);
                long length = header.getLong(LENGTH_OFFSET);
                boolean reservedZero = header.get(RESERVED_OFFSET) == 0 && header.getShort(RESERVED_OFFSET + 1) == 0;
                if (kind == null || !reservedZero || offset < 0 || length < 0 || offset > diskSizeBytes
                        || length > diskSizeBytes - offset) {
                    throw damaged(file, epoch, "record " + records + " has a bad kind or range");
                }
                long dataBytes = kind == DiskWrite.Kind.WRITE ? length : 0;
                long dataPosition = position + RECORD_HEADER_BYTES;
                if (dataBytes > fileBytes - dataPosition) {
                    throw damaged(file, epoch, "record " + records + "'s data is cut short");
                }
                crc.reset();
                crc.update(header.array(), RANGE_OFFSET, RECORD_HEADER_BYTES - RANGE_OFFSET);
                for (long done = 0; done < dataBytes; ) {
                    chunk.clear().limit((int) Math.min(CHUNK_BYTES, dataBytes - done));
                    if (!readFully(spill, chunk, dataPosition + done)) {
                        throw damaged(file, epoch, "record " + records + "'s data is cut short");
                    }
                    crc.update(chunk.flip());
                    done += chunk.limit();
                }
                if ((int) crc.getValue() != header.getInt(CRC_OFFSET)) {
                    throw damaged(file, epoch, "record " + records + " fails its checksum");
                }
                sink.record(kind, offset, length, spill, dataPosition);
                position = dataPosition + dataBytes;
                records++;
            }
            return records;
        }
    }

    /** Copies {@code length} bytes at {@code position} of {@code spill} to {@code offset} of {@code target}. */
    static void copy(FileChannel spill, long position, long length, FileChannel target, long offset)
            throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(1, length)));
        for (long done = 0; done < length; ) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), length - done));
            if (!readFully(spill, chunk, position + done)) {
                throw new IOException("spill log ended early");
            }
            chunk.flip();
            while (chunk.hasRemaining()) {
                done += target.write(chunk, offset + done);
            }
        }
    }

    /** @return false if the file ended first */
    private static boolean readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        return true;
    }

    private static InconsistentReplicaException damaged(Path file, long epoch, String what) {
        return new InconsistentReplicaException("spill log " + file + " of epoch " + epoch + " is damaged: " + what,
                epoch);
    }
}
