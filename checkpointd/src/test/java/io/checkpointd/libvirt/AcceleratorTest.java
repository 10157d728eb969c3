package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KVM probe's guest and the check for a libvirtd that would re-probe QEMU before every domain start. */
class AcceleratorTest {
    @TempDir
    Path dir;

    @Test
    void theProbeFirmwareJumpsFromTheResetVectorToTheDebugExitPort() {
        byte[] image = Accelerator.firmware();
        assertThat(image).hasSize(64 << 10);
        // mov al, 0x2a; out 0xf4, al; hlt; jmp $-1 at 16 bytes below the top.
        byte[] code = {(byte) 0xb0, 0x2a, (byte) 0xe6, (byte) 0xf4, (byte) 0xf4, (byte) 0xeb, (byte) 0xfd};
        assertThat(java.util.Arrays.copyOfRange(image, image.length - 16, image.length - 16 + code.length))
                .isEqualTo(code);
        assertThat(Accelerator.EXPECTED_EXIT).isEqualTo(85);
    }

    /** The same image under TCG: if it did not run, a host with working KVM would be taken for one without. */
    @Test
    void theProbeGuestRunsAndExitsWithTheExpectedStatus() throws Exception {
        if (!Files.isExecutable(Path.of(Accelerator.QEMU_BINARY))) {
            System.err.println("SKIPPED AcceleratorTest: no " + Accelerator.QEMU_BINARY
                    + " (bin/run-tests installs qemu-system-x86 as root)");
            Assumptions.abort("no " + Accelerator.QEMU_BINARY);
        }
        Path firmware = dir.resolve("probe.bin");
        Files.write(firmware, Accelerator.firmware());
        Process qemu = new ProcessBuilder(Accelerator.QEMU_BINARY, "-machine", "pc,accel=tcg", "-m", "16",
                "-nodefaults", "-no-user-config", "-display", "none", "-bios", firmware.toString(),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        assertThat(qemu.waitFor(30, TimeUnit.SECONDS)).as("QEMU exits by itself").isTrue();
        assertThat(qemu.exitValue()).as(Files.readString(dir.resolve("qemu.log"))).isEqualTo(Accelerator.EXPECTED_EXIT);
    }

    @Test
    void detectionNeverThrowsAndGivesAReason() {
        Accelerator found = Accelerator.detect(Accelerator.QEMU_BINARY);
        assertThat(found.reason()).isNotBlank();
        assertThat(found.domainType()).isEqualTo(found.kvm() ? "kvm" : "qemu");
        if (!Files.exists(Accelerator.KVM_DEVICE)) {
            assertThat(found).isEqualTo(new Accelerator(false, "no /dev/kvm"));
        }
    }

    @Test
    void warnsOnlyWhenLibvirtdSeesAnAccessibleKvmDeviceThatRunsNoGuest() throws Exception {
        Accelerator tcg = new Accelerator(false, "a test guest under KVM did not run");
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("dev"));
        assertThat(tcg.slowDomainCreation(root)).as("no /dev/kvm at all").isEmpty();

        // A character device anyone may open, as libvirtd would see /dev/kvm on such a host.
        Files.createSymbolicLink(root.resolve("dev/kvm"), Path.of("/dev/null"));
        assertThat(tcg.slowDomainCreation(root)).hasValueSatisfying(w -> assertThat(w)
                .contains("domain creation may be slow").contains("chmod 000 /dev/kvm"));
        assertThat(new Accelerator(true, "a test guest ran under KVM").slowDomainCreation(root))
                .as("KVM works: libvirt's two checks agree").isEmpty();

        // What scripts/libvirt-up leaves: no permission at all.
        Files.delete(root.resolve("dev/kvm"));
        Files.createFile(root.resolve("dev/kvm"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("---------")));
        assertThat(tcg.slowDomainCreation(root)).isEmpty();
    }
}
