package io.checkpointd.libvirt;

import io.checkpointd.util.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether QEMU guests on this host run under KVM or under TCG (emulation), found by running one: a
 * {@code /dev/kvm} that opens is not enough. On nested-virtualisation hosts and in some containers the device
 * is there and opens, QEMU even reports KVM enabled, and yet a guest never executes an instruction.
 *
 * <p>The probe boots a 64 KiB firmware image whose reset vector writes one byte to QEMU's
 * {@code isa-debug-exit} port: QEMU exits with status {@code (0x2a << 1) | 1 = 85} once the guest has really
 * run. It takes about 0.1 s; a hanging KVM is cut off after {@link #PROBE_TIMEOUT_NS}.
 *
 * <p>The same probe is in {@code scripts/libvirt-up}, which makes an unusable {@code /dev/kvm} inaccessible to
 * libvirt's QEMU user (see docs/libvirt-notes.md, "KVM that does not run guests").
 *
 * @param kvm    true when a guest ran under KVM here
 * @param reason why not, or how it was found; for the log line
 */
public record Accelerator(boolean kvm, String reason) {
    private static final Logger LOG = LoggerFactory.getLogger(Accelerator.class);
    static final long PROBE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    static final Path KVM_DEVICE = Path.of("/dev/kvm");
    static final String QEMU_BINARY = "/usr/bin/qemu-system-x86_64";
    /** The probe's guest writes this to the debug-exit port; QEMU exits with (value << 1) | 1. */
    private static final int EXIT_VALUE = 0x2a;
    static final int EXPECTED_EXIT = (EXIT_VALUE << 1) | 1;
    private static final int FIRMWARE_BYTES = 64 << 10;
    /** x86 starts at 16 bytes below the top of its firmware (the reset vector). */
    private static final int RESET_VECTOR_OFFSET = FIRMWARE_BYTES - 16;

    /** libvirt's name for the accelerator: the domain XML's {@code <domain type=...>}. */
    public String domainType() {
        return kvm ? "kvm" : "qemu";
    }

    /** One line for the start-up log. */
    public String describe() {
        return kvm ? "guests run under KVM here (" + reason + ")" : "guests run under TCG (emulation) here: " + reason;
    }

    /**
     * The start-up check of {@code protect} and {@code backup}: probes, logs which accelerator guests get,
     * and warns in one line when libvirtd will make every domain creation slow.
     */
    public static Accelerator detectAndLog() {
        long startNs = System.nanoTime();
        Accelerator accelerator = detect(QEMU_BINARY);
        LOG.info("{} (probed in {} ms)", accelerator.describe(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
        accelerator.slowDomainCreation(libvirtdRoot().orElse(null)).ifPresent(LOG::warn);
        return accelerator;
    }

    /** Runs the probe with the given QEMU; never throws: an error is a reason for TCG. */
    public static Accelerator detect(String qemuBinary) {
        if (!Files.exists(KVM_DEVICE)) {
            return new Accelerator(false, "no " + KVM_DEVICE);
        }
        if (!Files.isReadable(KVM_DEVICE) || !Files.isWritable(KVM_DEVICE)) {
            return new Accelerator(false, KVM_DEVICE + " is not readable and writable by this user");
        }
        if (!Files.isExecutable(Path.of(qemuBinary))) {
            return new Accelerator(false, "no " + qemuBinary + " to probe " + KVM_DEVICE + " with");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("checkpointd-kvm-probe");
            Path firmware = dir.resolve("probe.bin");
            Files.write(firmware, firmware());
            return run(qemuBinary, firmware, dir.resolve("qemu.err"));
        } catch (IOException e) {
            return new Accelerator(false, "the KVM probe could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Accelerator(false, "interrupted while probing KVM");
        } finally {
            deleteQuietly(dir);
        }
    }

    private static Accelerator run(String qemuBinary, Path firmware, Path stderr) throws IOException,
            InterruptedException {
        Process qemu = new ProcessBuilder(qemuBinary, "-machine", "pc,accel=kvm", "-m", "16", "-nodefaults",
                "-no-user-config", "-display", "none", "-bios", firmware.toString(),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile()).start();
        if (!qemu.waitFor(PROBE_TIMEOUT_NS, TimeUnit.NANOSECONDS)) {
            qemu.destroyForcibly().waitFor();
            return new Accelerator(false, KVM_DEVICE + " opens, but a test guest under KVM did not run within "
                    + TimeUnit.NANOSECONDS.toSeconds(PROBE_TIMEOUT_NS) + " s (nested KVM that hangs)");
        }
        if (qemu.exitValue() == EXPECTED_EXIT) {
            return new Accelerator(true, "a test guest ran under KVM");
        }
        return new Accelerator(false, "QEMU could not run a guest under KVM (exit " + qemu.exitValue() + "): "
                + firstLine(stderr).orElse("no message"));
    }

    /** 64 KiB of {@code hlt}, and at the reset vector: mov al, 0x2a; out 0xf4, al; hlt; jmp $-1. */
    static byte[] firmware() {
        byte[] image = new byte[FIRMWARE_BYTES];
        java.util.Arrays.fill(image, (byte) 0xf4);
        byte[] code = {(byte) 0xb0, EXIT_VALUE, (byte) 0xe6, (byte) 0xf4, (byte) 0xf4, (byte) 0xeb, (byte) 0xfd};
        System.arraycopy(code, 0, image, RESET_VECTOR_OFFSET, code.length);
        return image;
    }

    /**
     * The warning for a libvirtd that will re-probe QEMU before every domain start, or empty. libvirt
     * caches QEMU's capabilities only while its own check of {@code /dev/kvm} agrees with what QEMU reported
     * when probed; where the device exists but runs no guest, the two can disagree, and then every domain
     * start re-runs the whole probe (about nine QEMU launches, tens of seconds). scripts/libvirt-up takes every
     * permission off such a device (root still opens it, libvirt's QEMU user does not); this finds a host
     * where that was not done.
     *
     * @param libvirtdRoot the root directory as libvirtd sees it ({@code /proc/PID/root})
     */
    public Optional<String> slowDomainCreation(Path libvirtdRoot) {
        if (kvm || libvirtdRoot == null) {
            return Optional.empty();
        }
        Path device = libvirtdRoot.resolve("dev/kvm");
        try {
            BasicFileAttributes attributes = Files.readAttributes(device, BasicFileAttributes.class);
            if (!attributes.isOther() || Files.getPosixFilePermissions(device).isEmpty()) {
                return Optional.empty(); // no device, or one made inaccessible by scripts/libvirt-up (mode 000)
            }
        } catch (IOException e) {
            return Optional.empty(); // libvirtd sees no /dev/kvm: it never offers KVM
        }
        return Optional.of("domain creation may be slow (tens of seconds each): libvirtd sees " + KVM_DEVICE
                + ", which runs no guest here, and then re-probes QEMU before every domain start; scripts/libvirt-up "
                + "makes " + KVM_DEVICE + " inaccessible to QEMU's user on such a host (or: chmod 000 " + KVM_DEVICE + ")");
    }

    /** {@code /proc/PID/root} of the local libvirtd, if one runs. */
    public static Optional<Path> libvirtdRoot() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/libvirtd")).orElse(false))
                .findFirst()
                .map(p -> Path.of("/proc", Long.toString(p.pid()), "root"));
    }

    private static Optional<String> firstLine(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            if (dir != null) {
                FileTrees.delete(dir);
            }
        } catch (IOException e) {
            // A temporary directory left behind costs 64 KiB.
        }
    }
}
