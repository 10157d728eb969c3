package io.checkpointd.config;

/**
 * Output commit: the guest's outgoing packets are held until the checkpoint that produced them is
 * acknowledged.
 *
 * @param outputCommit  true to hold output; false releases it at once, which is not protected and exists
 *                      only as a baseline for experiments
 * @param maxHeldBytes  bytes held before the guest's output is back-pressured; 64KiB to 16GiB
 * @param maxHeldFrames packets held before the same; 1 to 16777216
 */
public record NetBufferConfig(boolean outputCommit, long maxHeldBytes, int maxHeldFrames) {

    /** At least one 64KiB segmentation-offload packet must fit. */
    static final Range MAX_HELD_BYTES = Range.bytes(64L << 10, 16L << 30);
    static final Range MAX_HELD_FRAMES = Range.count(1, 1 << 24);

    public static NetBufferConfig defaults() {
        return new NetBufferConfig(true, 64L << 20, 65_536);
    }

    public NetBufferConfig withOutputCommit(boolean outputCommit) {
        return new NetBufferConfig(outputCommit, maxHeldBytes, maxHeldFrames);
    }

    public NetBufferConfig withMaxHeldBytes(long maxHeldBytes) {
        return new NetBufferConfig(outputCommit, maxHeldBytes, maxHeldFrames);
    }

    public NetBufferConfig withMaxHeldFrames(int maxHeldFrames) {
        return new NetBufferConfig(outputCommit, maxHeldBytes, maxHeldFrames);
    }
}
