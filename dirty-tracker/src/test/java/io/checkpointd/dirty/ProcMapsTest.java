package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcMapsTest {
    private static final String PC_RAM = "/var/lib/libvirt/qemu/ram/1-demo/pc.ram";

    @TempDir
    Path tempDir;

    /** A QEMU process's maps (128 MiB guest, RAM in a libvirt memory_backing_dir file), as the kernel prints them. */
    private static String qemuMaps() throws IOException {
        try (InputStream in = ProcMapsTest.class.getResourceAsStream("qemu-system-x86_64.maps")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void findsQemusRamFile() throws IOException {
        ProcMaps maps = ProcMaps.parse(qemuMaps());
        ProcMaps.Mapping ram = maps.findFile(PC_RAM).orElseThrow();
        assertThat(ram.startAddress()).isEqualTo(0x7f1b57e00000L);
        assertThat(ram.endAddress()).isEqualTo(0x7f1b5fe00000L);
        assertThat(ram.lengthBytes()).isEqualTo(128L << 20);
        assertThat(ram.perms()).isEqualTo("rw-s");
        assertThat(ram.isShared()).isTrue();
        assertThat(ram.offsetBytes()).isZero();
        assertThat(ram.device()).isEqualTo("fe:01");
        assertThat(ram.inode()).isEqualTo(1311246);
    }

    @Test
    void parsesEveryKindOfLine() throws IOException {
        ProcMaps maps = ProcMaps.parse(qemuMaps());
        assertThat(maps.mappings()).hasSize(24);

        ProcMaps.Mapping text = maps.mappings().get(1);
        assertThat(text.path()).isEqualTo("/usr/bin/qemu-system-x86_64");
        assertThat(text.perms()).isEqualTo("r-xp");
        assertThat(text.isShared()).isFalse();
        assertThat(text.offsetBytes()).isEqualTo(0x31e000);

        ProcMaps.Mapping anonymous = maps.mappings().get(5);
        assertThat(anonymous.path()).as("anonymous: nothing after the inode but one space").isEmpty();
        assertThat(anonymous.inode()).isZero();

        assertThat(maps.mappings().get(6).path()).isEqualTo("[heap]");
        assertThat(maps.mappings().get(13).path()).isEqualTo("/dev/zero (deleted)");

        ProcMaps.Mapping vsyscall = maps.mappings().get(23);
        assertThat(vsyscall.path()).isEqualTo("[vsyscall]");
        assertThat(vsyscall.startAddress()).as("above Long.MAX_VALUE, kept unsigned").isEqualTo(0xffffffffff600000L);
        assertThat(vsyscall.lengthBytes()).isEqualTo(4096);
    }

    @Test
    void aPathMayContainSpaces() {
        ProcMaps maps = ProcMaps.parse(
                "7f0000000000-7f0000200000 rw-s 00000000 fd:02 77                         /srv/vm ram/guest one.ram\n");
        assertThat(maps.findFile("/srv/vm ram/guest one.ram")).isPresent();
    }

    @Test
    void joinsAMappingTheKernelSplit() {
        // One 4 MiB mapping of pc.ram, split in two by an madvise on its second half.
        String text = """
                7f1b57e00000-7f1b58000000 rw-s 00000000 fe:01 1311246                    /vm/pc.ram
                7f1b58000000-7f1b58200000 rw-s 00200000 fe:01 1311246                    /vm/pc.ram
                7f1b58200000-7f1b58201000 ---p 00000000 00:00 0
                """;
        ProcMaps.Mapping ram = ProcMaps.parse(text).findFile("/vm/pc.ram").orElseThrow();
        assertThat(ram.startAddress()).isEqualTo(0x7f1b57e00000L);
        assertThat(ram.lengthBytes()).isEqualTo(4L << 20);
        assertThat(ram.offsetBytes()).isZero();
    }

    @Test
    void aFileMappedTwiceIsAmbiguous() {
        String text = """
                7f1b57e00000-7f1b58000000 rw-s 00000000 fe:01 1311246                    /vm/pc.ram
                7f1b60000000-7f1b60200000 rw-s 00000000 fe:01 1311246                    /vm/pc.ram
                """;
        assertThatThrownBy(() -> ProcMaps.parse(text).findFile("/vm/pc.ram"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("mapped more than once");
    }

    @Test
    void unmappedOrDeletedFilesAreNotFound() throws IOException {
        ProcMaps maps = ProcMaps.parse(qemuMaps());
        assertThat(maps.findFile("/var/lib/libvirt/qemu/ram/2-other/pc.ram")).isEmpty();
        assertThat(maps.findFile("/dev/zero")).as("compared exactly: the deleted one is not it").isEmpty();
    }

    @Test
    void malformedLinesNameTheirNumber() {
        assertThatThrownBy(() -> ProcMaps.parse("55d0c6a00000-55d0c6d1e000 r--p 00000000 fe:01 1 /a\nnonsense\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("line 2: ");
        assertThatThrownBy(() -> ProcMaps.parse("55d0c6a00000-55d0c6d1e000 r--p 00000000\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing device");
        assertThatThrownBy(() -> ProcMaps.parse("55d0c6a00000-55d0c6a00000 r--p 00000000 fe:01 1 /a\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty address range");
    }

    @Test
    void findsAFileThisProcessMapped() throws IOException {
        Path file = tempDir.resolve("guest.ram");
        try (Arena arena = Arena.ofConfined();
                FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
            MemorySegment ram = channel.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20, arena);
            ProcMaps.Mapping mapping = ProcMaps.read(ProcessHandle.current().pid())
                    .findFile(file.toRealPath().toString()).orElseThrow();
            assertThat(mapping.startAddress()).isEqualTo(ram.address());
            assertThat(mapping.lengthBytes()).isEqualTo(1 << 20);
            assertThat(mapping.isShared()).isTrue();
        }
    }

    @Test
    void readNamesTheFileOnAParseError() throws IOException {
        Path bad = Files.writeString(tempDir.resolve("maps"), "garbage\n");
        assertThatThrownBy(() -> ProcMaps.read(bad)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(bad + ": line 1: ");
    }
}
