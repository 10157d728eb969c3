package io.checkpointd.netbuffer;

/** What the primary asks of net-buffer: close an epoch's output, release it on ACK, or give up holding. */
public interface OutputCommit {
    /** Output sent by the guest so far belongs to checkpoint {@code epoch}; hold whatever comes next. Called while paused. */
    void barrier(long epoch);

    /** The backup committed {@code epoch}: let its output (and that of earlier epochs) go. */
    void release(long epoch);

    /** Protection is lost: let everything go now and pass output through until the next barrier. */
    void releaseAll();
}
