package io.checkpointd.disk.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** What {@link HandshakeDecoder} reads from a client during option haggling. */
sealed interface HandshakeMessage {

    /** The 32-bit client flags that follow the server's greeting. */
    record ClientFlags(int flags) implements HandshakeMessage {
    }

    /**
     * One option with its data. Holds a retained slice of the received bytes: the receiver releases it.
     */
    final class Option extends DefaultByteBufHolder implements HandshakeMessage {
        private final int code;

        Option(int code, ByteBuf data) {
            super(data);
            this.code = code;
        }

        int code() {
            return code;
        }

        @Override
        public String toString() {
            return "Option[code=" + code + ", length=" + content().readableBytes() + "]";
        }
    }

    /**
     * An option whose declared data length exceeds what the server accepts. Its data is skipped, never
     * buffered: the decoder stays in step with the client.
     */
    record OversizedOption(int code, long length) implements HandshakeMessage {
    }
}
