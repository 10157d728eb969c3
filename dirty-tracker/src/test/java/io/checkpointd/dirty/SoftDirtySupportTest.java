package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe and a real soft-dirty tracker on the kernel these tests run on, whichever way it is built. */
class SoftDirtySupportTest {
    private static final int PAGE = PagemapDecoder.KERNEL_PAGE_BYTES;

    @TempDir
    Path tempDir;

    /** The kernel's own word on CONFIG_MEM_SOFT_DIRTY, when it publishes its config. */
    private static Optional<Boolean> kernelConfigSaysSoftDirty() throws IOException {
        Path config = Path.of("/proc/config.gz");
        if (!Files.isReadable(config)) {
            return Optional.empty();
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(config))) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return Optional.of(text.lines().anyMatch("CONFIG_MEM_SOFT_DIRTY=y"::equals));
        }
    }

    @Test
    void probeAgreesWithTheRunningKernel() throws IOException {
        SoftDirtySupport.Probe probe = SoftDirtySupport.probe();
        System.out.println("soft-dirty probe on this kernel: " + probe);
        kernelConfigSaysSoftDirty().ifPresent(configured ->
                assertThat(probe.supported()).as("probe %s vs /proc/config.gz", probe).isEqualTo(configured));
        assertThat(probe.reason()).isNotBlank().doesNotContain("\n");
        if (!probe.supported()) {
            assertThat(probe.reason()).isEqualTo(SoftDirtySupport.NO_SOFT_DIRTY_REASON);
        }
    }

    @Test
    void aProcDirectoryThatCannotBeReadIsUnsupportedWithTheFileNamed() {
        Path missing = tempDir.resolve("no-proc");
        SoftDirtySupport.Probe probe = SoftDirtySupport.probe(missing);
        assertThat(probe.supported()).isFalse();
        assertThat(probe.reason()).isEqualTo(missing.resolve("clear_refs") + ": no such file");
    }

    /** A shared file mapping of {@code pages} pages, as QEMU maps pc.ram, every page touched. */
    private MemorySegment mapRamFile(Arena arena, int pages) throws IOException {
        try (FileChannel file = FileChannel.open(tempDir.resolve("pc.ram"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment ram = file.map(FileChannel.MapMode.READ_WRITE, 0, (long) pages * PAGE, arena);
            for (int p = 0; p < pages; p++) {
                ram.set(ValueLayout.JAVA_LONG, (long) p * PAGE, p + 1);
            }
            return ram;
        }
    }

    @Test
    void whereSupportedARealTrackerReportsTheWrittenPages() throws IOException {
        SoftDirtySupport.Probe probe = SoftDirtySupport.probe();
        if (!probe.supported()) {
            // Surefire shows only a count for skips; say why where a reader of the build log will see it.
            System.err.println("SKIPPED SoftDirtySupportTest.whereSupportedARealTrackerReportsTheWrittenPages: "
                    + probe.reason() + " (the fixture-based SoftDirtyTrackerTest covers the decoding here)");
        }
        assumeTrue(probe.supported(), "kernel without soft-dirty: " + probe.reason());
        int pages = 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = mapRamFile(arena, pages);
            try (SoftDirtyTracker tracker = new SoftDirtyTracker(ProcessHandle.current().pid(), ram.address(),
                    ram.byteSize(), PAGE)) {
                for (int p : new int[] {0, 1, 31, 63}) {
                    ram.set(ValueLayout.JAVA_LONG, (long) p * PAGE + 8, 42);
                }
                assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(0, 1, 31, 63));
                ram.set(ValueLayout.JAVA_LONG, 5L * PAGE, 7);
                assertThat(Pages.toBitSet(tracker.collect())).isEqualTo(Pages.of(5));
            }
        }
    }

    @Test
    void withoutSupportARealTrackerRunsButSeesNoWrite() throws IOException {
        assumeFalse(SoftDirtySupport.probe().supported(), "kernel with soft-dirty");
        // Why TrackerChoice probes first: nothing fails, the tracker just misses every write.
        int pages = 16;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = mapRamFile(arena, pages);
            try (SoftDirtyTracker tracker = new SoftDirtyTracker(ProcessHandle.current().pid(), ram.address(),
                    ram.byteSize(), PAGE)) {
                for (int p = 0; p < pages; p++) {
                    ram.set(ValueLayout.JAVA_LONG, (long) p * PAGE + 8, 42);
                }
                assertThat(tracker.collect().isEmpty()).isTrue();
            }
        }
    }
}
