package io.checkpointd.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class ImageZeroerTest {
    private static final int SIZE = 3 << 20;

    @TempDir
    Path dir;

    /** Punching, zeroing in place and writing zeroes all leave the same bytes, and never grow the file. */
    @Test
    void everyWayOfZeroingGivesTheSameBytes() throws IOException {
        byte[] expected = Images.filled(SIZE, 0x5a);
        Arrays.fill(expected, 1000, 1000 + 70_000, (byte) 0);
        Arrays.fill(expected, (1 << 20) - 7, (2 << 20) + 13, (byte) 0);
        Arrays.fill(expected, SIZE - 10, SIZE, (byte) 0);

        for (String way : new String[] {"punch", "zero-range", "write"}) {
            Path image = dir.resolve(way + ".img");
            Files.write(image, Images.filled(SIZE, 0x5a));
            try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 ImageZeroer zeroer = way.equals("write") ? ImageZeroer.writingZeroes(image, channel)
                         : ImageZeroer.open(image, channel)) {
                boolean deallocate = way.equals("punch");
                zeroer.zero(1000, 70_000, deallocate);
                zeroer.zero((1 << 20) - 7, (1 << 20) + 20, deallocate);
                zeroer.zero(SIZE - 10, 10, deallocate);
                zeroer.zero(5, 0, deallocate);
            }
            assertThat(Files.size(image)).isEqualTo(SIZE);
            assertThat(Arrays.mismatch(Files.readAllBytes(image), expected)).as(way).isEqualTo(-1);
        }
    }
}
