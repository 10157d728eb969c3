package io.checkpointd.sim;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Where sim guest threads may be stopped: a guest thread does its writes between {@link #enter()} and
 * {@link #exit()}; {@link #pause()} waits for every such section to finish and keeps new ones out until
 * {@link #resume()}. That is the sim's "all vCPUs stopped".
 *
 * <p>A read-write lock does exactly this: guest sections are readers, the pause is the writer. The
 * non-fair lock still lets a waiting writer in ahead of new readers, so a pause is not starved by a busy
 * guest. pause and resume must be called from the same thread (the epoch loop).
 */
final class Safepoint {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    void enter() {
        lock.readLock().lock();
    }

    void exit() {
        lock.readLock().unlock();
    }

    void pause() {
        lock.writeLock().lock();
    }

    void resume() {
        lock.writeLock().unlock();
    }
}
