package io.checkpointd.sim;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.driver.Driver;
import io.checkpointd.driver.GuestAttachment;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.replication.wire.GuestSpec;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code sim} driver: an in-process guest (RAM in a mapped file, a dirtying workload, a key-value
 * service on UDP, a disk file), for the demo, tests and experiments without a hypervisor.
 */
public final class SimDriver implements Driver {
    public static final String NAME = "sim";

    private final CheckpointdConfig config;
    private final Path runDir;

    /** @param runDir where the primary's guest keeps its RAM and disk files */
    public SimDriver(CheckpointdConfig config, Path runDir) {
        this.config = config;
        this.runDir = runDir;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean mirrorsDisk() {
        return config.sim().diskBytes() > 0;
    }

    @Override
    public GuestAttachment attach(Attach attach) throws IOException {
        return SimAttachment.start(config, runDir, attach);
    }

    @Override
    public GuestRestorer restorer(EventLoop guestNetwork, MeterRegistry registry) {
        return new GuestRestorer() {
            @Override
            public AutoCloseable restore(String domain, GuestSpec guest, Path replicaRamFile, byte[] deviceState,
                                         Path diskImage, Path ramInPlace) throws IOException {
                return RestoredSimGuest.start(domain, SimDescription.parse(guest.description()), replicaRamFile,
                        deviceState, diskImage, guest.diskBytes(), guestNetwork, registry);
            }

            @Override
            public String cannotRestore(GuestSpec guest) {
                try {
                    SimDescription.parse(guest.description());
                    return null;
                } catch (IllegalArgumentException e) {
                    return e.getMessage();
                }
            }
        };
    }
}
