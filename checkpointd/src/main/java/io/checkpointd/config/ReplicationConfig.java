package io.checkpointd.config;

import java.util.Objects;

/**
 * How checkpoints travel from primary to backup.
 *
 * @param backup           the backup's address; the primary connects to it
 * @param listen           the address a backup binds; port 0 picks a free port (tests)
 * @param compression      how page batches are compressed
 * @param batchPages       pages per PAGES frame; 1 to 1024
 * @param maxFrameBytes    the largest frame either side sends or accepts; 64KiB to 64MiB, and at least
 *                         {@link #bytesForBatch} of a full batch
 * @param connectTimeoutNs how long the primary waits for a TCP connection to the backup; 1ms to 10m
 * @param tls              TLS on the connection (on by default)
 */
public record ReplicationConfig(HostPort backup, HostPort listen, Compression compression, int batchPages,
                                long maxFrameBytes, long connectTimeoutNs, TlsConfig tls) {

    static final Range BATCH_PAGES = Range.count(1, 1024);
    static final Range MAX_FRAME_BYTES = Range.bytes(64L << 10, 64L << 20);
    static final Range CONNECT_TIMEOUT_NS = Range.durationNs(1_000_000L, 600_000_000_000L);

    /** Frame header, epoch, counts, checksum: generous, so the codec may grow without breaking configs. */
    static final int FRAME_HEADER_BYTES = 256;
    /** Each page of a batch carries its page number. */
    static final int PAGE_NUMBER_BYTES = Long.BYTES;

    public ReplicationConfig {
        Objects.requireNonNull(backup, "backup");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(compression, "compression");
        Objects.requireNonNull(tls, "tls");
    }

    public ReplicationConfig(HostPort backup, HostPort listen, Compression compression, int batchPages,
                             long maxFrameBytes, long connectTimeoutNs) {
        this(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, TlsConfig.defaults());
    }

    public static ReplicationConfig defaults() {
        HostPort local = new HostPort("127.0.0.1", 7410);
        return new ReplicationConfig(local, local, Compression.LZ4, 64, 4L << 20, 5_000_000_000L);
    }

    /**
     * The largest PAGES frame a batch of {@code pages} pages of {@code pageSizeBytes} can need: the data
     * when LZ4 cannot shrink it (LZ4's worst case grows a block by 1/255 plus 16 bytes), the page numbers,
     * and the header.
     */
    public static long bytesForBatch(int pages, int pageSizeBytes) {
        long data = (long) pages * pageSizeBytes;
        long lz4WorstCase = data + data / 255 + 16;
        return lz4WorstCase + (long) pages * PAGE_NUMBER_BYTES + FRAME_HEADER_BYTES;
    }

    public ReplicationConfig withBackup(HostPort backup) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withListen(HostPort listen) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withCompression(Compression compression) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withBatchPages(int batchPages) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withMaxFrameBytes(long maxFrameBytes) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withConnectTimeoutNs(long connectTimeoutNs) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }

    public ReplicationConfig withTls(TlsConfig tls) {
        return new ReplicationConfig(backup, listen, compression, batchPages, maxFrameBytes, connectTimeoutNs, tls);
    }
}
