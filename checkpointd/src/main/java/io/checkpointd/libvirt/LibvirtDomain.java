package io.checkpointd.libvirt;

import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ProcMaps;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.domain.GuestMemory;
import io.checkpointd.domain.ProtectedDomain;
import io.checkpointd.util.MappedFiles;
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
 * A running QEMU domain under protection, driven as QEMU-RECIPE.md describes: paused and resumed through
 * libvirt; its RAM read straight from the shared file QEMU maps; its device state captured each epoch by
 * a device-only migration ({@code x-ignore-shared}) to a unix socket this object listens on.
 *
 * <p>Owns the libvirt connection and the domain's run: {@link #close()} destroys the domain, which cannot
 * run without the daemon anyway (its NIC and disk are served by the daemon).
 */
public final class LibvirtDomain implements ProtectedDomain {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtDomain.class);
    /** QEMU's RAM object when libvirt backs memory with a file (-machine memory-backend=pc.ram). */
    static final String RAM_OBJECT = "/objects/pc.ram";
    static final int PAGE_SIZE_BYTES = 4096;
    /** How long one device-state migration may take before the epoch fails; it takes milliseconds. */
    private static final long DEVICE_STATE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int VIR_DOMAIN_START_PAUSED = 1;

    private final String name;
    private final LibvirtTarget target;
    private final Domain domain;
    private final Qmp qmp;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final DeviceStateSocket deviceState;
    private final DirtyTracker tracker;
    private final long qemuPid;

    private LibvirtDomain(LibvirtTarget target, Path socketDir, String qemuUser, TrackingMode mode)
            throws IOException, LibvirtException {
        this.target = target;
        this.name = target.xml().name();
        this.domain = target.domain();
        domain.create(VIR_DOMAIN_START_PAUSED);
        this.qmp = new Qmp(domain, name);
        Path ramFile = Path.of(qmp.ramFile(RAM_OBJECT));
        long ramBytes = target.xml().memoryBytes();
        if (!Files.isRegularFile(ramFile) || Files.size(ramFile) != ramBytes) {
            throw new IllegalStateException(name + ": QEMU's RAM file " + ramFile + " is not a " + ramBytes
                    + "-byte regular file; check <memoryBacking> and memory_backing_dir in /etc/libvirt/qemu.conf");
        }
        MemorySegment ram = MappedFiles.mapReadOnly(ramFile, arena);
        this.memory = new GuestMemory(ram, ramFile, PAGE_SIZE_BYTES);
        qmp.ignoreSharedMemory();
        this.deviceState = DeviceStateSocket.bind(socketDir.resolve("device-state.sock"), qemuUser);
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
        this.tracker = choice.tracker();
        domain.resume();
        LOG.info("{}: started under protection ({} {}, {} MiB of RAM in {}, QEMU pid {}); {}", name, target.xml().type(),
                target.uri(), ramBytes >> 20, ramFile, qemuPid, choice.logMessage());
    }

    /**
     * Starts the domain (paused), maps its RAM, readies the device-state socket and the dirty tracker, and
     * lets it run. The NIC's and the disk's listeners must already be up: QEMU connects to them at start.
     *
     * @param socketDir a directory QEMU's user can reach, for the device-state socket
     */
    public static LibvirtDomain start(LibvirtTarget target, Path socketDir, String qemuUser, TrackingMode mode) {
        try {
            return new LibvirtDomain(target, socketDir, qemuUser, mode);
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

    @Override
    public void pause() {
        try {
            domain.suspend();
        } catch (LibvirtException e) {
            throw new IllegalStateException(name + ": libvirt could not pause the domain: " + e.getMessage(), e);
        }
    }

    /** Migrates the (paused) domain's devices to our socket; QEMU ends in state postmigrate. */
    @Override
    public byte[] captureDeviceState() {
        qmp.execute("migrate", Qmp.args().put("uri", "unix:" + deviceState.path()));
        byte[] state;
        try {
            state = deviceState.receive(DEVICE_STATE_TIMEOUT_NS);
        } catch (IOException e) {
            throw new IllegalStateException(name + ": device state not captured: " + e.getMessage()
                    + "; QEMU says: " + qmp.lastMigration(), e);
        }
        awaitMigration();
        return state;
    }

    /** The socket is at EOF, so QEMU has sent everything; its status turns completed right after. */
    private void awaitMigration() {
        long deadlineNs = System.nanoTime() + DEVICE_STATE_TIMEOUT_NS;
        while (true) {
            String status = qmp.migrationStatus();
            switch (status) {
                case "completed" -> {
                    return;
                }
                case "failed", "cancelled" -> throw new IllegalStateException(name + ": device-state migration "
                        + status + ": " + qmp.lastMigration().path("error-desc").asText("no reason given"));
                default -> {
                    if (System.nanoTime() - deadlineNs > 0) {
                        throw new IllegalStateException(name + ": device-state migration still '" + status + "'");
                    }
                    Thread.onSpinWait();
                }
            }
        }
    }

    @Override
    public void resume() {
        try {
            domain.resume();
        } catch (LibvirtException e) {
            throw new IllegalStateException(name + ": libvirt could not resume the domain: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        LOG.info("{}: stopping the domain: its network and disk are served by this daemon", name);
        destroyQuietly(domain);
        tracker.close();
        deviceState.close();
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
