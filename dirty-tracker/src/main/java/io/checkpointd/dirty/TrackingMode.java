package io.checkpointd.dirty;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The configured way of finding dirty pages: {@code auto | exact | scan | soft-dirty}. */
public enum TrackingMode {
    /** The best the driver and kernel allow: exact, else soft-dirty, else scan. */
    AUTO("auto"),
    /** The guest reports its own writes (the sim driver). */
    EXACT("exact"),
    /** Compare RAM with a shadow copy: any kernel, cost proportional to RAM. */
    SCAN("scan"),
    /** The kernel's soft-dirty bits of the process mapping the RAM (QEMU). */
    SOFT_DIRTY("soft-dirty");

    private final String configName;

    TrackingMode(String configName) {
        this.configName = configName;
    }

    /** The spelling in the configuration file and in logs. */
    public String configName() {
        return configName;
    }

    /**
     * The mode spelled {@code name} in a configuration file.
     *
     * @throws IllegalArgumentException listing the valid spellings; the config loader adds file and key
     */
    public static TrackingMode fromConfigName(String name) {
        for (TrackingMode mode : values()) {
            if (mode.configName.equals(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("'" + name + "' is not a dirty-tracking mode; use one of "
                + Arrays.stream(values()).map(TrackingMode::configName).collect(Collectors.joining(", ")));
    }
}
