package io.checkpointd.util;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an {@link Agent} on its own platform thread until closed. When the agent had nothing to do it
 * parks briefly instead of spinning: a VM host needs its cores for guests.
 */
public final class AgentRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentRunner.class);
    private static final long IDLE_PARK_NS = TimeUnit.MICROSECONDS.toNanos(200);

    private final Agent agent;
    private final NanoClock clock;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private final Consumer<Throwable> onFailure;

    public AgentRunner(Agent agent, NanoClock clock) {
        this(agent, clock, failure -> { });
    }

    /** @param onFailure told, on the agent's thread, of the error that stopped the agent */
    public AgentRunner(Agent agent, NanoClock clock, Consumer<Throwable> onFailure) {
        this.agent = agent;
        this.clock = clock;
        this.onFailure = onFailure;
        this.thread = Thread.ofPlatform().name(agent.roleName()).unstarted(this::run);
    }

    public AgentRunner start() {
        thread.start();
        return this;
    }

    /** The exception that stopped the agent, or null. */
    public Throwable failure() {
        return failure;
    }

    private void run() {
        try {
            agent.onStart();
            while (running) {
                if (agent.doWork(clock.nanoTime()) == 0) {
                    LockSupport.parkNanos(IDLE_PARK_NS);
                }
            }
        } catch (Throwable t) {
            failure = t;
            LOG.error("{} stopped by an unexpected error", agent.roleName(), t);
        } finally {
            agent.onClose();
        }
        if (failure != null) {
            onFailure.accept(failure);
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
