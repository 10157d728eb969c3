package io.checkpointd.config;

/**
 * The in-process guest of the {@code sim} driver: its memory, how it dirties pages, and its service.
 *
 * @param ramBytes            guest RAM; at least 16MiB, at most 1TiB, a multiple of {@code pageSizeBytes}
 * @param pageSizeBytes       the dirty-tracking and copy granularity; a power of two from 4KiB to 2MiB
 * @param dirtyPagesPerSecond pages the writer threads dirty per second, together; 0 to 1000000000
 * @param hotSetBytes         the region most writes land in; at least one page, at most {@code ramBytes}
 * @param hotFraction         the share of writes that land in the hot set; 0 to 1
 * @param writerThreads       threads dirtying pages; 0 to 16, and at least 1 when the dirty rate is not 0
 * @param servicePort         the UDP port of the key-value service; 0 picks a free port
 * @param keys                keys the service holds; 1 to 1000000, and they must fit in RAM at
 *                            {@link #KEY_SLOT_BYTES} each
 */
public record SimConfig(long ramBytes, int pageSizeBytes, long dirtyPagesPerSecond, long hotSetBytes,
                        double hotFraction, int writerThreads, int servicePort, int keys, long diskBytes) {

    /** The guest's disk, which its service appends a log to; 0 for none. 1 MiB to 64 GiB, whole 4 KiB blocks. */
    static final Range DISK_BYTES = Range.bytes(0, 64L << 30);

    public SimConfig(long ramBytes, int pageSizeBytes, long dirtyPagesPerSecond, long hotSetBytes, double hotFraction,
                     int writerThreads, int servicePort, int keys) {
        this(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes, hotFraction, writerThreads, servicePort, keys,
                64L << 20);
    }

    public SimConfig withDiskBytes(long diskBytes) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes, hotFraction, writerThreads,
                servicePort, keys, diskBytes);
    }

    /**
     * Bytes of guest memory the service uses per key. The service lays its keys out in slots of this
     * size; the validator checks {@code keys * KEY_SLOT_BYTES <= ramBytes}.
     */
    public static final int KEY_SLOT_BYTES = 64;

    static final Range RAM_BYTES = Range.bytes(16L << 20, 1L << 40);
    static final Range PAGE_SIZE_BYTES = Range.bytes(4L << 10, 2L << 20);
    static final Range DIRTY_PAGES_PER_SECOND = Range.count(0, 1_000_000_000L);
    static final Range HOT_SET_BYTES = Range.bytes(0, 1L << 40);
    static final Range WRITER_THREADS = Range.count(0, 16);
    static final Range SERVICE_PORT = Range.count(0, HostPort.MAX_PORT);
    static final Range KEYS = Range.count(1, 1_000_000);

    public static SimConfig defaults() {
        return new SimConfig(256L << 20, 4 << 10, 20_000, 32L << 20, 0.9, 1, 7420, 4096, 64L << 20);
    }

    public long pageCount() {
        return ramBytes / pageSizeBytes;
    }

    public SimConfig withRamBytes(long ramBytes) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withPageSizeBytes(int pageSizeBytes) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withDirtyPagesPerSecond(long dirtyPagesPerSecond) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withHotSetBytes(long hotSetBytes) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withHotFraction(double hotFraction) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withWriterThreads(int writerThreads) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withServicePort(int servicePort) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }

    public SimConfig withKeys(int keys) {
        return new SimConfig(ramBytes, pageSizeBytes, dirtyPagesPerSecond, hotSetBytes,
                hotFraction, writerThreads, servicePort, keys, diskBytes);
    }
}
