package io.checkpointd.libvirt;

import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ProcMaps;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.util.MappedFiles;
import io.checkpointd.util.NanoClock;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running QEMU domain under protection: its RAM read straight from the shared file QEMU maps; its device
 * state saved each epoch by QMP {@code xen-save-devices-state} to a file in the domain's run directory
 * (docs/libvirt-notes.md).
 *
 * <p>libvirt starts and stops the domain, but every epoch's commands (stop, save, cont) go over the
 * daemon's own QMP monitor ({@link QmpMonitor}, a second {@code -qmp} socket added to the live XML only):
 * through libvirtd each would cost an RPC round trip of milliseconds inside the guest's pause. libvirt
 * keeps its monitor and follows the run state from QEMU's STOP and RESUME events.
 *
 * <p>Owns the libvirt connection and the domain's run: {@link #close()} destroys the domain, which cannot
 * run without the daemon anyway (its NIC and disk are served by the daemon).
 */
public final class LibvirtDomain implements ProtectedDomain {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtDomain.class);
    /** QEMU's RAM object when libvirt backs memory with a file (-machine memory-backend=pc.ram). */
    static final String RAM_OBJECT = "/objects/pc.ram";
    static final int PAGE_SIZE_BYTES = 4096;
    /** Bound on one device state read back: a small guest's is tens of KB. */
    static final long MAX_DEVICE_STATE_BYTES = 64L << 20;
    /** How long one QMP reply may take; stop, save and cont answer within a few milliseconds. */
    private static final long QMP_REPLY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int VIR_DOMAIN_START_PAUSED = 1;
    private static final QmpMonitor.Command STOP = QmpMonitor.Command.of("stop", null);
    private static final QmpMonitor.Command CONT = QmpMonitor.Command.of("cont", null);

    private final String name;
    private final LibvirtTarget target;
    private final Domain domain;
    private final QmpMonitor monitor;
    private final Path qmpSocket;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final Path deviceStateFile;
    private final QmpMonitor.Command save;
    private final DirtyTracker tracker;
    private final long qemuPid;

    private LibvirtDomain(LibvirtTarget target, DomainXml live, Path socketDir, TrackingMode mode, NanoClock clock)
            throws IOException, LibvirtException {
        this.target = target;
        this.name = live.name();
        this.qmpSocket = socketDir.resolve("qmp.sock");
        Files.deleteIfExists(qmpSocket);
        // The live XML only: libvirt runs the defined (inactive) domain with it, under the same name and
        // uuid, and keeps the operator's definition as it was.
        this.domain = target.connection().domainCreateXML(live.withQmpSocket(qmpSocket),
                VIR_DOMAIN_START_PAUSED);
        this.monitor = QmpMonitor.connect(name, qmpSocket, clock, QMP_REPLY_TIMEOUT_NS);
        DirtyTracker chosen = null;
        try {
            this.deviceStateFile = socketDir.resolve("device-state.bin");
            this.save = QmpMonitor.Command.of("xen-save-devices-state", QmpMonitor.args()
                    .put("filename", deviceStateFile.toString()).put("live", false));
            Path ramFile = Path.of(ramFile(RAM_OBJECT));
            long ramBytes = live.memoryBytes();
            if (!Files.isRegularFile(ramFile) || Files.size(ramFile) != ramBytes) {
                throw new IllegalStateException(name + ": QEMU's RAM file " + ramFile + " is not a " + ramBytes
                        + "-byte regular file; check <memoryBacking> and memory_backing_dir in /etc/libvirt/qemu.conf");
            }
            MemorySegment ram = MappedFiles.mapReadOnly(ramFile, arena);
            this.memory = new GuestMemory(ram, ramFile, PAGE_SIZE_BYTES);
            this.qemuPid = qemuPid(name);
            // A scan runs while the guest is paused, so QEMU leaves the cores to it.
            TrackerOffer offer = TrackerOffer.pageSize(PAGE_SIZE_BYTES).withScan(ram)
                    .withScanThreads(Math.min(4, Runtime.getRuntime().availableProcessors()));
            Optional<ProcMaps.Mapping> mapping = qemuPid > 0 ? ProcMaps.read(qemuPid).findFile(ramFile.toString())
                    : Optional.empty();
            if (mapping.isPresent()) {
                offer = offer.withSoftDirty(qemuPid, mapping.get().startAddress(), mapping.get().lengthBytes());
            }
            // Chosen while paused: a tracker starts tracking when it is built.
            TrackerChoice choice = TrackerChoice.choose(mode, offer);
            chosen = choice.tracker();
            this.tracker = chosen;
            monitor.execute(CONT);
            LOG.info("{}: started under protection ({} {}, {} MiB of RAM in {}, QEMU pid {}, own QMP monitor {}); {}",
                    name, live.type(), target.uri(), ramBytes >> 20, ramFile, qemuPid, qmpSocket,
                    choice.logMessage());
        } catch (IOException | RuntimeException e) {
            // start() destroys the domain and closes the target; what this constructor opened is closed here.
            if (chosen != null) {
                chosen.close();
            }
            monitor.close();
            arena.close();
            throw e;
        }
    }

    /**
     * Starts the domain (paused), maps its RAM, readies the dirty tracker, and
     * lets it run. The NIC's and the disk's listeners must already be up: QEMU connects to them at start.
     *
     * @param live      the domain's XML as it is to run (the definition with its accelerator chosen)
     * @param socketDir a directory QEMU's user owns (0700), for its QMP socket and the device-state file
     */
    public static LibvirtDomain start(LibvirtTarget target, DomainXml live, Path socketDir, TrackingMode mode,
                                      NanoClock clock) {
        try {
            return new LibvirtDomain(target, live, socketDir, mode, clock);
        } catch (IOException | LibvirtException | RuntimeException e) {
            destroyQuietly(target.domain());
            target.close();
            throw new IllegalStateException("cannot start domain '" + target.xml().name() + "' under protection: "
                    + e.getMessage(), e);
        }
    }

    /** The QEMU process's pid from libvirt's pid file; 0 when unknown (remote libvirt). */
    static long qemuPid(String domainName) {
        Path pidFile = Path.of("/run/libvirt/qemu", domainName + ".pid");
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** Completes when the QEMU process exits, whoever ended it; never when its pid is unknown. */
    CompletableFuture<String> exited() {
        return ProcessHandle.of(qemuPid).map(p -> p.onExit().thenApply(h -> "QEMU (pid " + qemuPid + ") exited"))
                .orElseGet(CompletableFuture::new);
    }

    /** Ends the guest at once (virDomainDestroy): the fence before a hand-over. */
    void destroy() {
        destroyQuietly(domain);
    }

    public long qemuPid() {
        return qemuPid;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public DirtyTracker dirtyTracker() {
        return tracker;
    }

    /** The path of the file behind QEMU's RAM object. */
    private String ramFile(String objectPath) {
        return monitor.execute("qom-get", QmpMonitor.args().put("path", objectPath).put("property", "mem-path"))
                .asText();
    }

    /** QMP {@code stop}: its reply comes once every vCPU has stopped. */
    @Override
    public void pause() {
        monitor.execute(STOP);
    }

    /**
     * Asks QEMU to write its device state (no RAM, no ROM blocks: about 105 KB for the test guest, see
     * docs/libvirt-notes.md §h) to a file in the domain's run directory, on tmpfs; QEMU does it on its main loop while the pages are scanned.
     * {@code xen-save-devices-state} is the save COLO's checkpoints use: unlike a migration it has no
     * migration state machine, no flush at its end and no postmigrate state for {@code cont} to leave
     * (docs/libvirt-notes.md, "The device state without a migration"). The backup loads it with an
     * ordinary incoming migration; both sides run with {@code migration.send-configuration=off}, since this
     * save writes no configuration section.
     */
    @Override
    public void beginDeviceStateCapture() {
        monitor.send(save);
    }

    /** Waits for the save begun after the pause and reads what QEMU wrote. */
    @Override
    public byte[] captureDeviceState() {
        monitor.awaitReply();
        try {
            long bytes = Files.size(deviceStateFile);
            if (bytes > MAX_DEVICE_STATE_BYTES) {
                throw new IllegalStateException(name + ": device state of " + bytes + " bytes in " + deviceStateFile
                        + " exceeds " + (MAX_DEVICE_STATE_BYTES >> 20) + " MiB");
            }
            return Files.readAllBytes(deviceStateFile);
        } catch (IOException e) {
            throw new IllegalStateException(name + ": device state not captured: cannot read " + deviceStateFile
                    + ": " + e.getMessage(), e);
        }
    }

    /** QMP {@code cont}. */
    @Override
    public void resume() {
        monitor.execute(CONT);
    }

    @Override
    public void close() {
        LOG.info("{}: stopping the domain: its network and disk are served by this daemon", name);
        destroyQuietly(domain);
        monitor.close();
        try {
            // A QEMU killed hard leaves its listening socket behind, and the run directory is removed next.
            Files.deleteIfExists(qmpSocket);
        } catch (IOException e) {
            LOG.warn("{}: could not remove {}: {}", name, qmpSocket, e.toString());
        }
        tracker.close();
        try {
            Files.deleteIfExists(deviceStateFile);
        } catch (IOException e) {
            LOG.warn("{}: could not remove {}: {}", name, deviceStateFile, e.toString());
        }
        arena.close();
        target.close();
    }

    static void destroyQuietly(Domain domain) {
        try {
            if (domain.isActive() == 1) {
                domain.destroy();
            }
        } catch (LibvirtException e) {
            LOG.warn("could not stop a domain: {}", e.getMessage());
        }
    }
}
