package io.checkpointd.driver;

import java.nio.file.Path;

/** Hears about a restorer's standby for one domain; called from any thread. */
@FunctionalInterface
public interface StandbyListener {
    /** @param ramFile the ready standby's RAM file, which QEMU maps; null when no standby is ready */
    void onStandby(Path ramFile);
}
