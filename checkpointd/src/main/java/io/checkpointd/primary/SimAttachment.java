package io.checkpointd.primary;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.TrackerChoice;
import io.checkpointd.dirty.TrackerOffer;
import io.checkpointd.dirty.TrackingMode;
import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.domain.ProtectedDomain;
import io.checkpointd.net.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.sim.SimDescription;
import io.checkpointd.sim.SimDisk;
import io.checkpointd.sim.SimGuest;
import io.checkpointd.sim.SimNetwork;
import io.checkpointd.util.NanoClock;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The sim driver's guest: an in-process guest on a UDP socket, with its RAM and disk files in a run dir. */
public final class SimAttachment implements GuestAttachment {
    private static final Logger LOG = LoggerFactory.getLogger(SimAttachment.class);

    private final SimNetwork network;
    private final HeldEgress egress;
    private final SimGuest guest;
    private final DirtyTracker tracker;
    private final InetSocketAddress serviceAddress;
    private final Path diskImage;
    private final long diskBytes;
    private final String description;

    private SimAttachment(CheckpointdConfig config, Path runDir, EventLoop loop, OutputBuffer outputBuffer,
                          NanoClock clock, EpochWriteLog diskLog) throws IOException {
        String domain = config.domain().name();
        network = new SimNetwork(loop);
        egress = new HeldEgress(network.loop(), outputBuffer, network::sendReleased, clock,
                config.netBuffer().outputCommit());
        diskBytes = diskLog == null ? 0 : config.sim().diskBytes();
        diskImage = diskLog == null ? null : runDir.resolve(domain + ".disk");
        SimDisk disk = diskLog == null ? null : SimDisk.open(diskImage, diskBytes, diskLog);
        guest = SimGuest.start(domain, config.sim(), runDir.resolve(domain + ".ram"), network, disk);
        try {
            tracker = chooseTracker(config, guest);
        } catch (RuntimeException e) {
            guest.close();
            throw e;
        }
        serviceAddress = network.bind("127.0.0.1", config.sim().servicePort(), egress, guest::receive);
        description = new SimDescription(config.sim(), serviceAddress.getHostString(), serviceAddress.getPort())
                .toJson();
    }

    /** @param diskLog where the guest's disk writes go per epoch; null for a guest without a disk */
    public static SimAttachment start(CheckpointdConfig config, Path runDir, EventLoop loop, OutputBuffer outputBuffer,
                                      NanoClock clock, EpochWriteLog diskLog) throws IOException {
        return new SimAttachment(config, runDir, loop, outputBuffer, clock, diskLog);
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

    public InetSocketAddress serviceAddress() {
        return serviceAddress;
    }

    public long ringDrops() {
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
    public String description() {
        return description;
    }

    @Override
    public Path diskImage() {
        return diskImage;
    }

    @Override
    public long diskBytes() {
        return diskBytes;
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
