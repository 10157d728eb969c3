package io.checkpointd.disk.replica;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Properties;

/**
 * The disk replica's record of which epoch it holds ({@code disk.activation}), so a backup that dies while
 * applying an epoch knows its replica is torn instead of trusting it. A small properties text:
 *
 * <pre>
 * # checkpointd disk replica activation record
 * state=applying        (or: applied)
 * epoch=42
 * size_bytes=1073741824
 * </pre>
 *
 * {@code applying N} is written before epoch N's changes touch the replica and {@code applied N} after they
 * are all forced to disk. Written durably and atomically: a temporary file is written and forced, renamed
 * over the record, then the directory is forced, so a crash leaves either the old record or the new one.
 */
record ActivationRecord(State state, long epoch, long sizeBytes) {
    static final String FILE_NAME = "disk.activation";

    enum State {
        /** The replica may hold part of {@code epoch}'s changes. */
        APPLYING,
        /** The replica holds exactly the disk as of {@code epoch}. */
        APPLIED
    }

    ActivationRecord {
        Objects.requireNonNull(state, "state");
    }

    void writeTo(Path dir) throws IOException {
        String text = "# checkpointd disk replica activation record\nstate=" + state.name().toLowerCase()
                + "\nepoch=" + epoch + "\nsize_bytes=" + sizeBytes + "\n";
        Path file = dir.resolve(FILE_NAME);
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(dir);
    }

    /**
     * The record in {@code dir}, or null if there is none (a fresh replica).
     *
     * @throws InconsistentReplicaException if the file exists but is not a valid record
     */
    static ActivationRecord readFrom(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return null;
        }
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        try {
            return new ActivationRecord(State.valueOf(p.getProperty("state", "").toUpperCase()),
                    Long.parseLong(p.getProperty("epoch", "")), Long.parseLong(p.getProperty("size_bytes", "")));
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new InconsistentReplicaException(file + " is not a valid activation record: " + e.getMessage(),
                    DiskReplica.NO_EPOCH);
        }
    }

    /** Makes a rename in {@code dir} durable (Linux allows fsync on a directory opened read-only). */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
