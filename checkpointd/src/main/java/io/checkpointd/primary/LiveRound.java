package io.checkpointd.primary;

import io.checkpointd.dirty.DirtyPageSet;

/**
 * One round of a live pre-copy: pages the sender reads straight from guest RAM while the guest runs. The
 * copies may be torn by concurrent writes; every page written meanwhile is dirty and goes again in a later
 * round or in the final paused part, so the backup ends up with a consistent image.
 *
 * @param first true for round 1 (every page), which opens the full checkpoint with BEGIN
 */
record LiveRound(long epoch, long linkGeneration, DirtyPageSet pages, boolean first) implements SendJob {
}
