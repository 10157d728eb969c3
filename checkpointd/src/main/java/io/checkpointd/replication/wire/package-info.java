/**
 * The replication wire format: the frames primary and backup exchange, and their codec.
 *
 * <p>Entry points:
 * <ul>
 *   <li>{@link io.checkpointd.replication.wire.FrameCodec}: the byte layout of every frame, in its javadoc,
 *       and the protocol version.</li>
 *   <li>{@link io.checkpointd.replication.wire.FrameEncoder} and {@link io.checkpointd.replication.wire.FrameDecoder}:
 *       the Netty handlers; the decoder checks every length, count and string before use and rejects a
 *       frame with {@link io.checkpointd.replication.wire.CorruptFrameException} naming what was wrong.</li>
 *   <li>{@link io.checkpointd.replication.wire.Frame} and its records, one per frame type: HELLO
 *       ({@link io.checkpointd.replication.wire.Hello} with its {@link io.checkpointd.replication.wire.GuestSpec}),
 *       HELLO_ACK, CKPT_BEGIN, PAGES, DEVICE_STATE, DISK_WRITE, CKPT_END, ACK, HEARTBEAT, GOODBYE, HANDOVER,
 *       STANDBY.</li>
 * </ul>
 */
package io.checkpointd.replication.wire;
