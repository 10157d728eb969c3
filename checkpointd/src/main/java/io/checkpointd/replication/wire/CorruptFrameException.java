package io.checkpointd.replication.wire;

import io.netty.handler.codec.DecoderException;

/**
 * The bytes received are not a valid frame. The message names the frame type (when known), its epoch, the
 * field at fault and its value, e.g. {@code "PAGES frame (epoch 12): pageCount 70000 exceeds the limit of
 * 256"}.
 *
 * <p>A byte stream that failed framing cannot be resynchronised: whoever catches this closes the connection.
 */
public final class CorruptFrameException extends DecoderException {

    public CorruptFrameException(String message) {
        super(message);
    }

    public CorruptFrameException(String message, Throwable cause) {
        super(message, cause);
    }
}
