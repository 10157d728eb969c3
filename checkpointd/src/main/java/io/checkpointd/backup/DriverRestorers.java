package io.checkpointd.backup;

import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.driver.StandbyListener;
import io.checkpointd.replication.wire.GuestSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The backup's restorers, one per driver it has, each asked only about guests of its own driver. */
final class DriverRestorers implements GuestRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(DriverRestorers.class);

    private final Map<String, GuestRestorer> byDriver;

    DriverRestorers(Map<String, GuestRestorer> byDriver) {
        this.byDriver = new TreeMap<>(byDriver);
    }

    private GuestRestorer of(GuestSpec guest) {
        GuestRestorer restorer = byDriver.get(guest.driver());
        if (restorer == null) {
            throw new IllegalArgumentException(cannotRestore(guest));
        }
        return restorer;
    }

    @Override
    public AutoCloseable restore(String domain, GuestSpec guest, Path replicaRamFile, byte[] deviceState,
                                 Path diskImage, Path ramInPlace) throws Exception {
        return of(guest).restore(domain, guest, replicaRamFile, deviceState, diskImage, ramInPlace);
    }

    @Override
    public String cannotRestore(GuestSpec guest) {
        GuestRestorer restorer = byDriver.get(guest.driver());
        return restorer == null ? "this backup has no driver '" + guest.driver() + "' (it has " + byDriver.keySet() + ")"
                : restorer.cannotRestore(guest);
    }

    @Override
    public void prepare(String domain, GuestSpec guest, Path diskImage, StandbyListener listener) {
        of(guest).prepare(domain, guest, diskImage, listener);
    }

    @Override
    public void unprepare(String domain) {
        byDriver.values().forEach(r -> r.unprepare(domain));
    }

    @Override
    public void close() {
        for (Map.Entry<String, GuestRestorer> e : byDriver.entrySet()) {
            try {
                e.getValue().close();
            } catch (RuntimeException ex) {
                LOG.warn("error closing the {} driver's restorer: {}", e.getKey(), ex.toString());
            }
        }
    }
}
