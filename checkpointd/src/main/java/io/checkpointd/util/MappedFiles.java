package io.checkpointd.util;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Maps files as shared memory segments: guest RAM files, replicas, staging files. */
public final class MappedFiles {
    private MappedFiles() {
    }

    /**
     * Maps {@code file} read-write, creating it (sparse) or resizing it to exactly {@code sizeBytes}.
     * The mapping lives as long as {@code arena}.
     */
    public static MemorySegment mapReadWrite(Path file, long sizeBytes, Arena arena) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            if (channel.size() != sizeBytes) {
                if (channel.size() > sizeBytes) {
                    channel.truncate(sizeBytes);
                } else {
                    // Writing the last byte extends the file without allocating the blocks before it.
                    channel.write(java.nio.ByteBuffer.wrap(new byte[1]), sizeBytes - 1);
                }
            }
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, sizeBytes, arena);
        }
    }

    /** Maps an existing file read-only. */
    public static MemorySegment mapReadOnly(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
    }
}
