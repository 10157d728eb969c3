package io.checkpointd.domain;

import java.nio.file.Path;

/**
 * Starts a guest on the backup from a committed checkpoint: the replica of its RAM file and the device
 * state captured in the same pause.
 */
@FunctionalInterface
public interface DomainRestorer {
    ProtectedDomain restore(Path replicaMemoryFile, byte[] deviceState) throws Exception;
}
