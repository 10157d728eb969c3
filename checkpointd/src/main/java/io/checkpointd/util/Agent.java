package io.checkpointd.util;

/**
 * A long-running role driven by a loop (Agrona's Agent): the runner calls {@link #doWork(long)} with the
 * current time; tests call it with a fake clock, step by step, without sleeping.
 */
public interface Agent {
    default void onStart() {
    }

    /** Does whatever is due at {@code nowNs}; returns how much work was done (0: nothing was due). */
    int doWork(long nowNs) throws Exception;

    default void onClose() {
    }

    String roleName();
}
