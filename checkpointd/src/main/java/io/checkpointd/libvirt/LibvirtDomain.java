package io.checkpointd.libvirt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ProcMaps;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.domain.GuestMemory;
import io.checkpointd.domain.ProtectedDomain;
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
 * A running QEMU domain under protection, driven as QEMU-RECIPE.md describes: its RAM read straight from
 * the shared file QEMU maps; its device state captured each epoch by a device-only migration
 * ({@code x-ignore-shared}) to a unix socket this object listens on.
 *
 * <p>libvirt starts and stops the domain, but every epoch's commands (stop, migrate, cont) go over the
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
    /** How long one device-state migration may take before the epoch fails; it takes milliseconds. */
    private static final long DEVICE_STATE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    /** How long one QMP reply may take; stop, cont and migrate answer within a few milliseconds. */
    private static final long QMP_REPLY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    private static final int VIR_DOMAIN_START_PAUSED = 1;
    /** No throttle in practice: the device state goes over a unix socket on this host. */
    private static final long MAX_MIGRATION_BYTES_PER_S = 10L << 30;
    private static final QmpMonitor.Command STOP = QmpMonitor.Command.of("stop", null);
    private static final QmpMonitor.Command CONT = QmpMonitor.Command.of("cont", null);

    private final String name;
    private final LibvirtTarget target;
    private final Domain domain;
    private final QmpMonitor monitor;
    private final Path qmpSocket;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final DeviceStateSocket deviceState;
    private final QmpMonitor.Command migrate;
    private final DirtyTracker tracker;
    private final long qemuPid;

    private LibvirtDomain(LibvirtTarget target, DomainXml live, Path socketDir, String qemuUser, TrackingMode mode,
                          NanoClock clock) throws IOException, LibvirtException {
        this.target = target;
        this.name = live.name();
        this.qmpSocket = socketDir.resolve("qmp.sock");
        Files.deleteIfExists(qmpSocket);
        // The live XML only: libvirt runs the defined (inactive) domain with it, under the same name and
        // uuid, and keeps the operator's definition as it was.
        this.domain = target.connection().domainCreateXML(live.withQmpSocket(qmpSocket),
                VIR_DOMAIN_START_PAUSED);
        this.monitor = QmpMonitor.connect(name, qmpSocket, clock, QMP_REPLY_TIMEOUT_NS);
        DeviceStateSocket socket = null;
        DirtyTracker chosen = null;
        try {
            socket = prepareMigration(socketDir, qemuUser, clock);
            this.deviceState = socket;
            this.migrate = QmpMonitor.Command.of("migrate", QmpMonitor.args().put("uri", "unix:" + socket.path()));
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
            if (socket != null) {
                socket.close();
            }
            monitor.close();
            arena.close();
            throw e;
        }
    }

    /**
     * Starts the domain (paused), maps its RAM, readies the device-state socket and the dirty tracker, and
     * lets it run. The NIC's and the disk's listeners must already be up: QEMU connects to them at start.
     *
     * @param live      the domain's XML as it is to run (the definition with its accelerator chosen)
     * @param socketDir a directory QEMU's user can reach, for the device-state socket
     */
    public static LibvirtDomain start(LibvirtTarget target, DomainXml live, Path socketDir, String qemuUser,
                                      TrackingMode mode, NanoClock clock) {
        try {
            return new LibvirtDomain(target, live, socketDir, qemuUser, mode, clock);
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

    /**
     * Migration capabilities and the device-state socket, before the guest first runs: a migration then
     * carries device state only ({@code x-ignore-shared}: RAM is in the shared file) and reports its end
     * as a MIGRATION event ({@code events}), so nothing polls {@code query-migrate}.
     */
    private DeviceStateSocket prepareMigration(Path socketDir, String qemuUser, NanoClock clock) throws IOException {
        ObjectNode arguments = QmpMonitor.args();
        var capabilities = arguments.putArray("capabilities");
        for (String capability : new String[] {"x-ignore-shared", "events"}) {
            capabilities.add(QmpMonitor.args().put("capability", capability).put("state", true));
        }
        monitor.execute("migrate-set-capabilities", arguments);
        // QEMU 7.2 throttles a migration to 32 MiB/s unless told otherwise: 3-4 ms of every epoch's
        // 400 KB over a local socket (measured: device state 13.4 -> 9.8 ms p50 when not overlapped).
        monitor.execute("migrate-set-parameters", QmpMonitor.args().put("max-bandwidth", MAX_MIGRATION_BYTES_PER_S));
        return DeviceStateSocket.bind(socketDir.resolve("device-state.sock"), qemuUser, clock);
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
     * Starts the device-only migration to our socket and returns without waiting for QEMU's reply: QEMU
     * writes the state while the epoch loop scans RAM, and the reader thread drains the socket meanwhile
     * (QEMU would block once the socket buffer is full). Throws with nothing left in flight.
     */
    @Override
    public void beginDeviceStateCapture() {
        // Events from earlier epochs (STOP, RESUME, the last MIGRATION) answer nothing asked now.
        monitor.discardEvents();
        deviceState.startReceive(DEVICE_STATE_TIMEOUT_NS);
        try {
            monitor.send(migrate);
        } catch (RuntimeException e) {
            abandonReceive();
            throw e;
        }
    }

    /** Waits for the migration begun after the pause; QEMU ends in state postmigrate, which cont leaves. */
    @Override
    public byte[] captureDeviceState() {
        try {
            monitor.awaitReply();
        } catch (RuntimeException e) {
            abandonReceive();
            throw e;
        }
        byte[] state;
        try {
            state = deviceState.awaitReceived();
        } catch (IOException e) {
            throw new IllegalStateException(name + ": device state not captured: " + e.getMessage()
                    + "; QEMU says: " + lastMigration(), e);
        }
        awaitMigration();
        return state;
    }

    /** The socket is at EOF, so QEMU has sent everything; its MIGRATION event says completed right after. */
    private void awaitMigration() {
        String status = monitor.awaitEvent("MIGRATION", s -> s != null && switch (s) {
            case "completed", "failed", "cancelled" -> true;
            default -> false;
        }, DEVICE_STATE_TIMEOUT_NS).status();
        if (!status.equals("completed")) {
            throw new IllegalStateException(name + ": device-state migration " + status + ": "
                    + lastMigration().path("error-desc").asText("no reason given"));
        }
    }

    /** QEMU refused or never answered the migrate: nothing will connect to the socket. */
    private void abandonReceive() {
        deviceState.cancelReceive();
        try {
            deviceState.awaitReceived();
        } catch (IOException | RuntimeException e) {
            // The cancellation itself; the failure that caused it is the one to report.
        }
    }

    private JsonNode lastMigration() {
        try {
            return monitor.execute("query-migrate", null);
        } catch (RuntimeException e) {
            return QmpMonitor.args().put("error-desc", "query-migrate failed too: " + e.getMessage());
        }
    }

    /** QMP {@code cont}: from paused or, after a capture, from postmigrate. */
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
