package io.checkpointd.sim;

import io.checkpointd.netbuffer.HeldEgress;
import io.checkpointd.netbuffer.OutputBuffer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A sim guest started on the backup after failover: restored from the replica RAM and device state, its
 * service bound to the address it had on the primary, output passing straight through (unprotected until
 * a new backup is configured).
 */
final class RestoredSimGuest implements AutoCloseable {
    private final SimNetwork network;
    private final HeldEgress egress;
    private final SimGuest guest;
    private final InetSocketAddress address;

    private RestoredSimGuest(SimNetwork network, HeldEgress egress, SimGuest guest, InetSocketAddress address) {
        this.network = network;
        this.egress = egress;
        this.guest = guest;
        this.address = address;
    }

    static RestoredSimGuest start(String domain, SimDescription description, Path replicaRamFile, byte[] deviceState,
                                  Path diskImage, long diskBytes, EventLoop loop, MeterRegistry registry)
            throws IOException {
        SimNetwork network = new SimNetwork(loop);
        OutputBuffer buffer = new OutputBuffer(1 << 20, 1024, registry, Tags.of("domain", domain, "role", "restored"));
        HeldEgress egress = new HeldEgress(loop, buffer, network::sendReleased, System::nanoTime, false);
        // The disk replica becomes the guest's disk; unprotected from here on, nothing is mirrored.
        SimDisk disk = diskImage == null ? null
                : SimDisk.open(diskImage, diskBytes, io.checkpointd.disk.WriteListener.NONE);
        SimGuest guest = SimGuest.restore(domain, description.sim(), replicaRamFile, deviceState, network, disk);
        InetSocketAddress address;
        try {
            address = network.bind(description.serviceHost(), description.servicePort(), egress, guest::receive);
        } catch (RuntimeException e) {
            guest.close();
            throw new IOException("cannot take over the guest's address " + description.service() + ": " + e.getMessage(), e);
        }
        return new RestoredSimGuest(network, egress, guest, address);
    }

    public InetSocketAddress address() {
        return address;
    }

    public SimGuest guest() {
        return guest;
    }

    @Override
    public void close() {
        network.close();
        egress.close();
        guest.close();
    }
}
