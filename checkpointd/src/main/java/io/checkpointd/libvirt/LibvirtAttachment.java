package io.checkpointd.libvirt;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.LibvirtConfig;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.netbuffer.bridge.FrameBridge;
import io.checkpointd.netbuffer.bridge.TapDevice;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libvirt driver's guest on the primary. Before QEMU starts, the daemon listens where the domain XML
 * says QEMU will connect: the NIC's port (the frame bridge to the tap, with output held per epoch) and the
 * NBD socket (disk-mirror's server, every write logged for the epoch). Then the domain starts.
 */
final class LibvirtAttachment implements GuestAttachment {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtAttachment.class);
    private static final long NIC_CONNECT_TIMEOUT_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    private final Deque<AutoCloseable> opened;
    private final HeldEgress egress;
    private final FrameBridge bridge;
    private final LibvirtDomain domain;
    private final GuestSpec spec;
    private final Path diskImage;
    private final String summary;

    private LibvirtAttachment(CheckpointdConfig config, Driver.Attach attach, Deque<AutoCloseable> opened)
            throws IOException {
        EventLoop loop = attach.loop();
        NanoClock clock = attach.clock();
        MeterRegistry registry = attach.registry();
        this.opened = opened;
        LibvirtConfig lc = config.libvirt();
        String name = config.domain().name();
        LibvirtTarget target = LibvirtTarget.find(lc, name);
        opened.push(target);
        DomainXml xml = target.xml();
        long diskBytes;
        DomainXml.Nic nic = xml.nic();
        var nbdDisk = xml.nbdDisk();
        if (nbdDisk.isPresent() != lc.hasDisk()) {
            throw new IllegalArgumentException(nbdDisk.isPresent()
                    ? "domain '" + name + "' has an NBD disk at " + nbdDisk.get().socket() + " but libvirt.disk-image "
                            + "is not set: name the raw image the daemon serves there"
                    : "libvirt.disk-image is " + lc.diskImage() + " but domain '" + name + "' has no NBD disk");
        }
        Path socketDir = QemuSockets.prepareDir(lc.runDir().resolve(name), lc.qemuUser());
        opened.push(() -> Files.deleteIfExists(socketDir));
        if (lc.tap().isEmpty()) {
            throw new IllegalArgumentException("libvirt.tap is not set: name the tap device the guest's network "
                    + "goes through (ip tuntap add dev NAME mode tap, then put it on a bridge)");
        }
        egress = new HeldEgress(loop, attach.outputBuffer(), this::toTap, clock::nanoTime, config.netBuffer().outputCommit());
        opened.push(egress);
        // The bridge owns the tap from here on.
        bridge = FrameBridge.start(TapDevice.open(lc.tap()), loop, new InetSocketAddress(nic.address(), nic.port()),
                egress::transmit);
        opened.push(bridge);
        BridgeMetrics.register(registry, Tags.of("domain", name), bridge.counters());
        if (nbdDisk.isPresent()) {
            Path socket = nbdDisk.get().socket();
            if (!socket.getParent().equals(socketDir)) {
                QemuSockets.prepareDir(socket.getParent(), lc.qemuUser());
            }
            diskImage = lc.diskImage();
            diskBytes = Files.size(diskImage);
            NbdServer nbd = NbdServer.start(NbdServerConfig.of(nbdDisk.get().export(), diskImage,
                    new ListenAddress.UnixSocket(socket)), attach.diskLog(), registry, Tags.of("domain", name, "disk", "vda"));
            opened.push(nbd);
            QemuSockets.handToQemu(socket, lc.qemuUser());
        } else {
            diskImage = null;
            diskBytes = 0;
        }
        // KVM where a guest really runs under it, TCG otherwise, whatever the definition says: a definition
        // written for one host may meet the other, and libvirt would fail (or hang) on a KVM that is not there.
        Accelerator accelerator = Accelerator.detectAndLog();
        DomainXml live = xml.withType(accelerator.domainType());
        if (!xml.type().equals(live.type())) {
            LOG.warn("{}: defined with <domain type='{}'>, started with type='{}' ({})", name, xml.type(), live.type(),
                    accelerator.kvm() ? "KVM runs guests here" : accelerator.reason());
        }
        domain = LibvirtDomain.start(target, live, socketDir,
                TrackingMode.fromConfigName(config.domain().dirtyTracker()), clock);
        opened.remove(target);
        opened.push(domain);
        awaitGuestNic(bridge, name);
        // The backup restores under the same accelerator as the primary ran: device state does not cross
        // between KVM and TCG.
        spec = new GuestSpec(LibvirtDriver.NAME, domain.memory().ramBytes(), domain.memory().pageSizeBytes(), diskBytes,
                new LibvirtDescription(live.toXml(), nic.mac(), lc.guestIpv4(), xml.memoryBytes()).toJson());
        summary = "domain " + name + " (QEMU pid " + domain.qemuPid() + "), NIC " + nic.mac() + " bridged to "
                + "tap " + lc.tap() + (diskImage == null ? "" : ", disk " + diskImage);
    }

    static LibvirtAttachment start(CheckpointdConfig config, Driver.Attach attach) throws IOException {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            return new LibvirtAttachment(config, attach, opened);
        } catch (IOException | RuntimeException e) {
            Closing.inReverse(opened);
            throw e;
        }
    }

    /**
     * QEMU connects its NIC when it starts and never retries; a refused connection even looks like one in
     * progress to it, leaving the guest without a network and nothing in the logs. So check.
     */
    private static void awaitGuestNic(FrameBridge bridge, String name) {
        long deadlineNs = System.nanoTime() + NIC_CONNECT_TIMEOUT_NS;
        while (!bridge.guestConnected()) {
            if (System.nanoTime() - deadlineNs > 0) {
                throw new IllegalStateException("domain '" + name + "' started but its NIC never connected to the "
                        + "frame bridge at " + bridge.localAddress() + "; check <interface type='client'> in its XML");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting " + name, e);
            }
        }
    }

    public long qemuPid() {
        return domain.qemuPid();
    }

    private void toTap(ByteBuf frame) {
        bridge.sendToTap(frame);
    }

    @Override
    public ProtectedDomain domain() {
        return domain;
    }

    @Override
    public DirtyTracker tracker() {
        return domain.dirtyTracker();
    }

    @Override
    public HeldEgress egress() {
        return egress;
    }

    @Override
    public GuestSpec guest() {
        return spec;
    }

    @Override
    public Path diskImage() {
        return diskImage;
    }

    @Override
    public String summary() {
        return summary;
    }

    @Override
    public CompletableFuture<String> lost() {
        return domain.exited();
    }

    @Override
    public void fence() {
        domain.destroy();
    }

    /** Stops the domain first (it needs the bridge and disk), then what was opened for it, in reverse. */
    @Override
    public void close() {
        Closing.inReverse(opened);
    }
}
