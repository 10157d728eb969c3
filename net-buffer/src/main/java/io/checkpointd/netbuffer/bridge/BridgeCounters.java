package io.checkpointd.netbuffer.bridge;

/**
 * What a {@link FrameBridge} has carried, each way. Written only by the bridge's event loop; readable from
 * any thread.
 */
public final class BridgeCounters {
    private volatile long fromGuestFrames;
    private volatile long fromGuestBytes;
    private volatile long toTapFrames;
    private volatile long toTapBytes;
    private volatile long toTapDroppedFrames;
    private volatile long toGuestFrames;
    private volatile long toGuestBytes;
    private volatile long toGuestDroppedFrames;

    BridgeCounters() {
    }

    /** Frames the guest sent, handed to the bridge's consumer. */
    public long fromGuestFrames() {
        return fromGuestFrames;
    }

    public long fromGuestBytes() {
        return fromGuestBytes;
    }

    /** Frames written to the tap ({@link FrameBridge#sendToTap}, {@link FrameBridge#announce}). */
    public long toTapFrames() {
        return toTapFrames;
    }

    public long toTapBytes() {
        return toTapBytes;
    }

    /** Frames the tap refused or that came after close. */
    public long toTapDroppedFrames() {
        return toTapDroppedFrames;
    }

    /** Frames read from the tap and written to the guest's connection. */
    public long toGuestFrames() {
        return toGuestFrames;
    }

    public long toGuestBytes() {
        return toGuestBytes;
    }

    /** Frames read from the tap while no guest was connected, or while the guest was not reading. */
    public long toGuestDroppedFrames() {
        return toGuestDroppedFrames;
    }

    void fromGuest(int bytes) {
        fromGuestFrames++;
        fromGuestBytes += bytes;
    }

    void toTap(int bytes) {
        toTapFrames++;
        toTapBytes += bytes;
    }

    void toTapDropped() {
        toTapDroppedFrames++;
    }

    void toGuest(int bytes) {
        toGuestFrames++;
        toGuestBytes += bytes;
    }

    void toGuestDropped() {
        toGuestDroppedFrames++;
    }

    @Override
    public String toString() {
        return "from guest " + fromGuestFrames + " frames/" + fromGuestBytes + " B, to tap " + toTapFrames
                + " frames/" + toTapBytes + " B (" + toTapDroppedFrames + " dropped), to guest " + toGuestFrames
                + " frames/" + toGuestBytes + " B (" + toGuestDroppedFrames + " dropped)";
    }
}
