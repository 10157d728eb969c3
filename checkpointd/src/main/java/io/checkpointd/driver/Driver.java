package io.checkpointd.driver;

import io.checkpointd.disk.EpochWriteLog;
import io.checkpointd.netbuffer.OutputBuffer;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoop;
import java.io.IOException;

/**
 * What runs a protected guest, on both hosts: {@code sim} (an in-process guest) or {@code libvirt} (a QEMU
 * domain). The command line picks one by name ({@code domain.driver}) and hands it to the daemons in their
 * {@code LaunchContext}; the primary, the backup, replication and metrics know only this interface.
 *
 * <p>A driver is built from the host's config, so it knows which guest it runs; {@link #attach} starts it
 * under protection on the primary, {@link #restorer} gives what the backup starts its guests with.
 */
public interface Driver {

    /** The driver's name, as in config and in HELLO's {@code GuestSpec}. */
    String name();

    /** Whether the configured guest has a disk whose writes the primary mirrors (decided before attach). */
    boolean mirrorsDisk();

    /** Starts the configured guest with output commit on its network; the result owns all it opened. */
    GuestAttachment attach(Attach attach) throws IOException;

    /** The backup side: starts guests of this driver from a replica; one per backup daemon. */
    GuestRestorer restorer(EventLoop guestNetwork, MeterRegistry registry);

    /**
     * What the primary gives the driver to attach its guest with.
     *
     * @param domain       the protected domain's name
     * @param loop         the event loop the guest's network path (and its held output) runs on
     * @param outputBuffer where output waits for its checkpoint's ACK; owned by the attachment's egress
     * @param clock        the daemon's clock
     * @param diskLog      where the guest's disk writes go per epoch; null when {@link #mirrorsDisk()} is false
     */
    record Attach(String domain, EventLoop loop, OutputBuffer outputBuffer, NanoClock clock, EpochWriteLog diskLog,
                  MeterRegistry registry) {
    }
}
