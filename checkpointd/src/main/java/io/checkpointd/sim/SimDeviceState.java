package io.checkpointd.sim;

import java.nio.ByteBuffer;

/**
 * What a sim guest holds outside its RAM, captured while paused: the sim's analogue of CPU registers
 * and device queues. Its service keeps all state in RAM, so this is small: the shape of the guest, so a
 * restore into a differently configured guest is refused instead of silently misreading RAM.
 *
 * <pre>
 *  0 int64 magic "CKPTSIM1"   8 int32 version (1)   12 int64 RAM bytes   20 int32 page size   24 int32 keys
 * </pre>
 */
record SimDeviceState(long ramBytes, int pageSizeBytes, int keys) {
    private static final long MAGIC = 0x434B505453494D31L; // "CKPTSIM1"
    private static final int VERSION = 1;
    static final int BYTES = 28;

    byte[] encode() {
        return ByteBuffer.allocate(BYTES).putLong(MAGIC).putInt(VERSION).putLong(ramBytes).putInt(pageSizeBytes)
                .putInt(keys).array();
    }

    static SimDeviceState decode(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("sim device state: expected " + BYTES + " bytes, got " + bytes.length);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long magic = in.getLong();
        int version = in.getInt();
        if (magic != MAGIC || version != VERSION) {
            throw new IllegalArgumentException("sim device state: not a version " + VERSION + " sim state (magic "
                    + Long.toHexString(magic) + ", version " + version + ")");
        }
        return new SimDeviceState(in.getLong(), in.getInt(), in.getInt());
    }
}
