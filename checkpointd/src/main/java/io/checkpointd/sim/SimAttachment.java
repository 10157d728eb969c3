package io.checkpointd.sim;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.replication.wire.GuestSpec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The sim driver's guest: an in-process guest on a UDP socket, with its RAM and disk files in a run dir. */
final class SimAttachment implements GuestAttachment {
    private static final Logger LOG = LoggerFactory.getLogger(SimAttachment.class);

    private final SimNetwork network;
    private final HeldEgress egress;
    private final SimGuest guest;
    private final DirtyTracker tracker;
    private final InetSocketAddress serviceAddress;
    private final Path diskImage;
    private final GuestSpec spec;

    private SimAttachment(CheckpointdConfig config, Path runDir, Driver.Attach attach) throws IOException {
        String domain = attach.domain();
        network = new SimNetwork(attach.loop());
        egress = new HeldEgress(network.loop(), attach.outputBuffer(), network::sendReleased, attach.clock()::nanoTime,
                config.netBuffer().outputCommit());
        long diskBytes = attach.diskLog() == null ? 0 : config.sim().diskBytes();
        diskImage = attach.diskLog() == null ? null : runDir.resolve(domain + ".disk");
        SimDisk disk = attach.diskLog() == null ? null : SimDisk.open(diskImage, diskBytes, attach.diskLog());
        guest = SimGuest.start(domain, config.sim(), runDir.resolve(domain + ".ram"), network, disk);
        try {
            tracker = chooseTracker(config, guest);
        } catch (RuntimeException e) {
            guest.close();
            throw e;
        }
        serviceAddress = network.bind("127.0.0.1", config.sim().servicePort(), egress, guest::receive);
        String description = new SimDescription(config.sim(), serviceAddress.getHostString(),
                serviceAddress.getPort()).toJson();
        spec = new GuestSpec(SimDriver.NAME, guest.memory().ramBytes(), guest.memory().pageSizeBytes(), diskBytes,
                description);
    }

    static SimAttachment start(CheckpointdConfig config, Path runDir, Driver.Attach attach) throws IOException {
        return new SimAttachment(config, runDir, attach);
    }

    /**
     * The dirty tracker the config asks for, among what the sim guest offers (its own exact record, or a
     * scan of its RAM). Chosen while the guest is paused: a tracker starts tracking when it is built.
     */
    private static DirtyTracker chooseTracker(CheckpointdConfig config, SimGuest guest) {
        TrackerOffer offer = TrackerOffer.pageSize(guest.memory().pageSizeBytes())
                .withExact(guest.dirtyTracker())
                .withScan(guest.memory().segment());
        guest.pause();
        try {
            TrackerChoice choice = TrackerChoice.choose(TrackingMode.fromConfigName(config.domain().dirtyTracker()), offer);
            LOG.info("{}: {}", config.domain().name(), choice.logMessage());
            return choice.tracker();
        } finally {
            guest.resume();
        }
    }

    @Override
    public InetSocketAddress serviceAddress() {
        return serviceAddress;
    }

    @Override
    public long guestDrops() {
        return guest.ringDrops();
    }

    @Override
    public ProtectedDomain domain() {
        return guest;
    }

    @Override
    public DirtyTracker tracker() {
        return tracker;
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
        return "service on udp " + serviceAddress;
    }

    @Override
    public void close() {
        network.close();
        egress.close();
        if (tracker != guest.dirtyTracker()) {
            tracker.close();
        }
        guest.close();
    }
}
