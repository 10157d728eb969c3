package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PagemapDecoderTest {

    @BeforeEach
    void littleEndianHost() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "fixture bytes are x86-64's");
    }

    /** The bytes of pagemap-pc-ram.hex: 16 entries, 8 hex bytes per line, {@code #} starts a comment. */
    private static byte[] fixture() throws IOException {
        String text;
        try (InputStream in = PagemapDecoderTest.class.getResourceAsStream("pagemap-pc-ram.hex")) {
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String line : text.lines().toList()) {
            int comment = line.indexOf('#');
            String data = (comment < 0 ? line : line.substring(0, comment)).strip();
            if (!data.isEmpty()) {
                for (String hex : data.split(" +")) {
                    bytes.write(Integer.parseInt(hex, 16));
                }
            }
        }
        return bytes.toByteArray();
    }

    private static ByteBuffer nativeBuffer(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    }

    @ParameterizedTest(name = "{0} entries per guest page")
    @CsvSource(delimiter = ';', value = {
        "1; 0 2 5 8 9",  // 4 KiB guest pages: one entry each
        "2; 0 1 2 4",    // 8 KiB: any dirty 4 KiB half dirties the page
        "4; 0 1 2",
        "8; 0 1",
        "16; 0"})
    void softDirtyEntriesDirtyTheirGuestPage(int entriesPerPage, String expected) throws IOException {
        byte[] bytes = fixture();
        assertThat(bytes).hasSize(16 * PagemapDecoder.ENTRY_BYTES);
        DirtyPageSet dirty = new DirtyPageSet(16 / entriesPerPage);
        PagemapDecoder.addSoftDirtyPages(nativeBuffer(bytes), entriesPerPage, dirty);
        assertThat(Pages.toBitSet(dirty)).isEqualTo(
                Pages.of(Arrays.stream(expected.split(" ")).mapToInt(Integer::parseInt).toArray()));
    }

    @Test
    void readsFromThePositionWithoutMovingIt() throws IOException {
        byte[] entries = fixture();
        byte[] shifted = new byte[entries.length + 8];
        System.arraycopy(entries, 0, shifted, 8, entries.length);
        shifted[6] = (byte) 0x80; // a soft-dirty entry before the position, not ours
        ByteBuffer buffer = nativeBuffer(shifted).position(8);
        DirtyPageSet dirty = new DirtyPageSet(16);
        PagemapDecoder.addSoftDirtyPages(buffer, 1, dirty);
        assertThat(Pages.toBitSet(dirty)).isEqualTo(Pages.of(0, 2, 5, 8, 9));
        assertThat(buffer.position()).isEqualTo(8);
    }

    @Test
    void addsToWhatTheSetHolds() throws IOException {
        DirtyPageSet dirty = new DirtyPageSet(16);
        dirty.add(15);
        PagemapDecoder.addSoftDirtyPages(nativeBuffer(fixture()), 1, dirty);
        assertThat(Pages.toBitSet(dirty)).isEqualTo(Pages.of(0, 2, 5, 8, 9, 15));
    }

    @Test
    void rejectsMismatchedInput() throws IOException {
        byte[] bytes = fixture();
        assertThatThrownBy(() -> PagemapDecoder.addSoftDirtyPages(nativeBuffer(bytes), 1, new DirtyPageSet(15)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 120 bytes");
        assertThatThrownBy(() -> PagemapDecoder.addSoftDirtyPages(nativeBuffer(bytes), 0, new DirtyPageSet(16)))
                .isInstanceOf(IllegalArgumentException.class);
        ByteBuffer bigEndian = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        assertThatThrownBy(() -> PagemapDecoder.addSoftDirtyPages(bigEndian, 1, new DirtyPageSet(16)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native byte order");
    }
}
