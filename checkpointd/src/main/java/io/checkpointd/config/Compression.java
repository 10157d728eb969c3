package io.checkpointd.config;

/** How the primary compresses page batches before sending them. */
public enum Compression {
    /** LZ4 over each batch: guest memory is often zeros or repeated text, and LZ4 costs less than the wire. */
    LZ4,
    /** Raw pages: for fast links, or to measure what compression buys. */
    NONE
}
