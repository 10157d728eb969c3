package io.checkpointd.config;

import java.util.List;
import java.util.Objects;

/**
 * Which guest to protect.
 *
 * @param name   the domain's name: the libvirt domain for {@code libvirt}, a label for {@code sim}. Sent to
 *               the backup in HELLO so it can refuse a checkpoint of the wrong guest.
 * @param driver {@value #SIM} (an in-process guest, needs nothing but a JDK) or {@value #LIBVIRT}
 */
public record DomainConfig(String name, String driver, String dirtyTracker) {

    public static final String SIM = "sim";
    public static final String LIBVIRT = "libvirt";
    /** How dirty pages are found: the config names of io.checkpointd.dirty.TrackingMode. */
    public static final List<String> DIRTY_TRACKERS = List.of("auto", "exact", "scan", "soft-dirty");
    public static final List<String> DRIVERS = List.of(SIM, LIBVIRT);

    /** Long enough for any libvirt name in practice, short enough for a HELLO frame and a metrics label. */
    static final int MAX_NAME_CHARS = 128;

    public DomainConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(dirtyTracker, "dirtyTracker");
    }

    public DomainConfig(String name, String driver) {
        this(name, driver, "auto");
    }

    public static DomainConfig defaults() {
        return new DomainConfig("demo", SIM, "auto");
    }

    public DomainConfig withName(String name) {
        return new DomainConfig(name, driver, dirtyTracker);
    }

    public DomainConfig withDirtyTracker(String dirtyTracker) {
        return new DomainConfig(name, driver, dirtyTracker);
    }

    public DomainConfig withDriver(String driver) {
        return new DomainConfig(name, driver, dirtyTracker);
    }
}
