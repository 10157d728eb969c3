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
    private final long idleParkNs;

    public AgentRunner(Agent agent, NanoClock clock) {
        this(agent, clock, failure -> { });
    }

    /** @param onFailure told, on the agent's thread, of the error that stopped the agent */
    public AgentRunner(Agent agent, NanoClock clock, Consumer<Throwable> onFailure) {
        this(agent, clock, onFailure, IDLE_PARK_NS);
    }

    /**
     * @param idleParkNs how long to wait after a {@code doWork} that did nothing; {@link #wake()} ends the wait
     *                   early, so an agent woken by whoever hands it work can wait long and still answer at once
     */
    public AgentRunner(Agent agent, NanoClock clock, Consumer<Throwable> onFailure, long idleParkNs) {
        this.agent = agent;
        this.clock = clock;
        this.onFailure = onFailure;
        this.idleParkNs = idleParkNs;
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
                    LockSupport.parkNanos(idleParkNs);
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

    /** Ends the agent's idle wait now (it has work); any thread. */
    public void wake() {
        LockSupport.unpark(thread);
    }

    @Override
    public void close() {
        running = false;
        wake();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
