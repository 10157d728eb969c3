package io.checkpointd.util;

/** A monotonic clock, injected so logic can be driven by a fake clock in tests. */
@FunctionalInterface
public interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
