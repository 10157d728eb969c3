package io.checkpointd.failure;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded waiting for tests over real sockets: polls often, fails with a message, never sleeps a fixed time. */
final class Eventually {
    private Eventually() {
    }

    static void await(String what, Duration limit, BooleanSupplier condition) {
        long deadlineNs = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadlineNs > 0) {
                throw new AssertionError("not within " + limit.toMillis() + " ms: " + what);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what, e);
            }
        }
    }
}
