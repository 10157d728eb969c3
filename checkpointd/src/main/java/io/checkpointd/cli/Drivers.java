package io.checkpointd.cli;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.driver.Driver;
import io.checkpointd.launch.LaunchContext;
import io.checkpointd.libvirt.LibvirtDriver;
import io.checkpointd.sim.SimDriver;
import java.nio.file.Path;

/** The drivers this build has, by name: the one place that names them (the daemons know only {@link Driver}). */
final class Drivers {
    private Drivers() {
    }

    /** The primary's context: the driver {@code domain.driver} names. */
    static LaunchContext forPrimary(CheckpointdConfig config, Path runDir) {
        String name = config.domain().driver();
        Driver driver = switch (name) {
            case SimDriver.NAME -> new SimDriver(config, runDir);
            case LibvirtDriver.NAME -> new LibvirtDriver(config);
            default -> throw new IllegalArgumentException("domain.driver: no driver '" + name + "' (there are "
                    + SimDriver.NAME + " and " + LibvirtDriver.NAME + ")");
        };
        return new LaunchContext().config(config).driver(driver);
    }

    /** The backup's context: every driver, so it restores whatever guest a primary protects with it. */
    static LaunchContext forBackup(CheckpointdConfig config) {
        return new LaunchContext().config(config).driver(new SimDriver(config, config.backup().dir()))
                .driver(new LibvirtDriver(config));
    }
}
