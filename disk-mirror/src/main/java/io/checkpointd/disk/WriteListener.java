package io.checkpointd.disk;

import io.netty.buffer.ByteBuf;

/**
 * Told of every change the NBD server makes to its image, so the change can be mirrored.
 *
 * <p>Each call happens on an NBD event loop thread, after the change reached the image and <b>before</b>
 * the reply goes to the client. That order is what makes epochs exact: QEMU drains in-flight requests when
 * it pauses the guest, so every write the paused guest has seen complete was given to the listener before
 * the epoch loop closes the epoch.
 *
 * <p>Implementations must be thread-safe (one server may run several event loops, one per connection) and
 * quick, since the guest's write waits for them. They must not throw: the server treats an exception as a
 * lost mirror write, answers the request with EIO and closes the connection.
 */
public interface WriteListener {
    /** Ignores everything: a server that mirrors nothing. */
    WriteListener NONE = new WriteListener() {
        @Override
        public void onWrite(long offset, ByteBuf data) {
        }

        @Override
        public void onTrim(long offset, long length) {
        }

        @Override
        public void onZeroes(long offset, long length) {
        }
    };

    /**
     * {@code data.readableBytes()} bytes were written at {@code offset}.
     *
     * @param data the written bytes; valid only during the call and not to be modified (indices included):
     *             copy what must be kept
     */
    void onWrite(long offset, ByteBuf data);

    /** {@code length} bytes at {@code offset} were trimmed; they now read as zeroes. */
    void onTrim(long offset, long length);

    /** {@code length} bytes at {@code offset} were zeroed. */
    void onZeroes(long offset, long length);
}
