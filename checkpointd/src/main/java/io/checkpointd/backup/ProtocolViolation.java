package io.checkpointd.backup;

/** The primary sent something the protocol does not allow; the connection is closed and the checkpoint discarded. */
final class ProtocolViolation extends Exception {
    ProtocolViolation(String message) {
        super(message);
    }
}
