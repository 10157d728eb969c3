package io.checkpointd.libvirt;

import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.driver.StandbyListener;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.config.LibvirtConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import io.micrometer.core.instrument.Gauge;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a protected domain on the backup from its replica, as docs/qemu-recipe.md describes (see
 * {@link StandbyDomain}): created paused from the primary's XML with {@code -incoming defer}, when the
 * primary connects (warm standby) or at failover; then the replica RAM and device state go in, it runs,
 * and a gratuitous ARP tells the network where the guest is now.
 *
 * <p>The restored guest runs unprotected: its bridge passes frames straight through, its disk is not
 * mirrored.
 */
final class LibvirtRestorer implements GuestRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtRestorer.class);

    private final LibvirtConfig config;
    private final EventLoop loop;
    private final MeterRegistry registry;
    // Creating a domain takes the better part of a second: too long for the backup's event loop, whose
    // sessions and failure detection must go on. So standbys are made, used and dropped on this one
    // thread, which alone touches the map; failover waits for it.
    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("libvirt-standby").daemon().factory());
    private final Map<String, StandbyDomain> standbys = new HashMap<>();
    // Per domain: 1 while a warm standby is ready here. Written on the worker, read by scrapes.
    private final Map<String, AtomicInteger> standbyReady = new ConcurrentHashMap<>();

    // Probed on the worker when the backup starts (up to a few seconds where KVM hangs), so a restore knows
    // whether this host can run a KVM guest; unknown until then.
    private final CompletableFuture<Accelerator> accelerator = new CompletableFuture<>();

    LibvirtRestorer(LibvirtConfig config, EventLoop loop, MeterRegistry registry) {
        this.config = config;
        this.loop = loop;
        this.registry = registry;
        worker.execute(() -> accelerator.complete(Accelerator.detectAndLog()));
    }

    /**
     * What would make a restore fail on this host, checked when a primary connects: no tap configured or
     * present, QEMU's user missing, libvirt not answering, or a description this build cannot read.
     */
    @Override
    public String cannotRestore(GuestSpec guest) {
        DomainXml xml;
        try {
            LibvirtDescription description = LibvirtDescription.parse(guest.description());
            xml = DomainXml.parse(description.xml(), "the primary's domain XML");
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        String refused = new PeerDomainPolicy(config.runDir()).problem(xml);
        if (refused != null) {
            return refused;
        }
        Accelerator here = accelerator.getNow(null);
        if (xml.type().equals("kvm") && here != null && !here.kvm()) {
            return "the guest runs under KVM on the primary, but " + here.reason();
        }
        if (config.tap().isEmpty()) {
            return "libvirt.tap is not set here, and the restored guest needs a tap device for its network";
        }
        if (!Files.isDirectory(Path.of("/sys/class/net", config.tap()))) {
            return "tap device '" + config.tap() + "' (libvirt.tap) does not exist here: create it with ip tuntap add "
                    + "dev " + config.tap() + " mode tap, on the guest's LAN";
        }
        try {
            Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(config.qemuUser());
        } catch (IOException e) {
            return "no user '" + config.qemuUser() + "' (libvirt.qemu-user) here";
        }
        try {
            LibvirtTarget.closeQuietly(LibvirtTarget.connect(config.uri()));
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        return null;
    }

    /**
     * A primary connected: create the domain here now, paused and waiting for its state, so a failover
     * need not (when {@code libvirt.warm-standby} is on). A standby for another description is replaced.
     */
    @Override
    public void prepare(String domainName, GuestSpec guest, Path diskImage, StandbyListener listener) {
        readyGauge(domainName);
        worker.execute(() -> prepareNow(domainName, guest.description(), diskImage, listener));
    }

    @Override
    public void unprepare(String domainName) {
        worker.execute(() -> unprepareNow(domainName));
    }

    private void prepareNow(String domainName, String descriptionJson, Path diskImage,
                            StandbyListener listener) {
        StandbyDomain existing = standbys.get(domainName);
        if (existing != null && existing.standsFor(descriptionJson, diskImage)) {
            listener.onStandby(existing.ramFile());
            return;
        }
        unprepareNow(domainName);
        listener.onStandby(null);
        if (!config.warmStandby()) {
            return;
        }
        try {
            StandbyDomain standby = StandbyDomain.create(config, loop, registry, domainName, descriptionJson, diskImage);
            standbys.put(domainName, standby);
            readyGauge(domainName).set(1);
            LOG.info("{}: warm standby ready here (domain created paused in {} ms)", domainName,
                    TimeUnit.NANOSECONDS.toMillis(standby.createNs()));
            listener.onStandby(standby.ramFile());
        } catch (IOException e) {
            LOG.warn("{}: no warm standby ({}); a failover will create the domain then", domainName, e.getMessage());
        }
    }

    private void unprepareNow(String domainName) {
        readyGauge(domainName).set(0);
        StandbyDomain standby = standbys.remove(domainName);
        if (standby != null) {
            standby.close();
        }
    }

    /**
     * @param ramInPlace the RAM file of a standby the backup kept equal to the replica, or null: when it is
     *                   this standby's, no RAM is copied
     * @return the running guest; closing it destroys the domain and stops its bridge and disk
     */
    @Override
    public AutoCloseable restore(String domainName, GuestSpec guest, Path replicaRam, byte[] deviceState,
                                 Path diskImage, Path ramInPlace) throws IOException {
        String descriptionJson = guest.description();
        try {
            long askedNs = System.nanoTime();
            return worker.submit(() -> restoreNow(domainName, descriptionJson, replicaRam, deviceState, diskImage,
                    ramInPlace, askedNs)).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while restoring domain '" + domainName + "'", e);
        }
    }

    private AutoCloseable restoreNow(String domainName, String descriptionJson, Path replicaRam, byte[] deviceState,
                                     Path diskImage, Path ramInPlace, long askedNs) throws IOException {
        long startNs = System.nanoTime();
        StandbyDomain standby = standbys.remove(domainName);
        readyGauge(domainName).set(0);
        boolean usable = standby != null && standby.standsFor(descriptionJson, diskImage);
        LOG.info("{}: restore begins {} ms after it was asked for (standby {}, checked in {} ms)", domainName,
                String.format(java.util.Locale.ROOT, "%.1f", (startNs - askedNs) / 1e6),
                standby == null ? "none" : usable ? "usable" : "unusable",
                String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNs) / 1e6));
        if (standby != null && !usable) {
            LOG.warn("{}: the warm standby is no longer usable; creating the domain afresh", domainName);
            standby.close();
            standby = null;
        }
        if (standby == null) {
            standby = StandbyDomain.create(config, loop, registry, domainName, descriptionJson, diskImage);
        }
        try {
            standby.resume(replicaRam, deviceState, ramInPlace);
            return standby;
        } catch (IOException | RuntimeException e) {
            standby.close();
            throw new IOException("cannot restore domain '" + domainName + "': " + e.getMessage(), e);
        }
    }

    private AtomicInteger readyGauge(String domainName) {
        return standbyReady.computeIfAbsent(domainName, d -> {
            AtomicInteger ready = new AtomicInteger();
            Gauge.builder("checkpointd.standby.ready", ready, AtomicInteger::get).tag("domain", d)
                    .description("1 while the backup holds the domain created and paused, ready to resume (warm "
                            + "standby)")
                    .register(registry);
            return ready;
        });
    }

    /** Stops any standby (the backup daemon is stopping). */
    @Override
    public void close() {
        try {
            worker.submit(() -> java.util.List.copyOf(standbys.keySet()).forEach(this::unprepareNow)).get();
        } catch (ExecutionException e) {
            LOG.warn("stopping the standby domains: {}", e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        worker.shutdown();
    }
}
