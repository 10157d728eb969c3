package io.checkpointd.backup;

/**
 * The primary sent something the protocol does not allow; the connection is closed and the checkpoint discarded.
 * Public because {@link IncomingCheckpoint}'s public methods throw it (for the send-path benchmark in bench/).
 */
public final class ProtocolViolation extends Exception {
    ProtocolViolation(String message) {
        super(message);
    }
}
