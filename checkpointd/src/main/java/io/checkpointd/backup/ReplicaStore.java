package io.checkpointd.backup;

import io.checkpointd.util.FileTrees;
import io.checkpointd.disk.replica.DiskReplica;
import io.checkpointd.disk.replica.InconsistentReplicaException;
import io.checkpointd.util.MappedFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the backup keeps for one domain, under {@code <dir>/<domain>/}:
 * <ul>
 *   <li>{@code memory.replica}: guest RAM as of the last committed checkpoint (a file the size of RAM);
 *   <li>{@code staging.mem}: pages of the checkpoint being received, apart from the replica;
 *   <li>{@code device-state.bin}: the device state committed with the replica;
 *   <li>{@code commit.record}: see {@link CommitRecord}.
 * </ul>
 * Owned by one connection's event loop at a time.
 */
public final class ReplicaStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStore.class);
    /** Disk changes of one epoch kept in memory before they spill to a file. */
    private static final long MAX_BUFFERED_DISK_BYTES = 64L << 20;
    /** What one event-loop task copies into a standby's RAM: a few milliseconds of memcpy and page faults. */
    static final long MIRROR_CHUNK_BYTES = 8L << 20;

    private final Path dir;
    private final String domain;
    private final long ramBytes;
    private final int pageSizeBytes;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment replica;
    private final MemorySegment staging;
    private MemorySegment scratch = MemorySegment.NULL;
    private DiskReplica disk; // null: the domain has no mirrored disk
    private long lastCommittedEpoch;
    // A standby's RAM file kept equal to the replica, so a failover need not copy RAM (see startMirroring); its
    // own arena, because it comes and goes with standbys while the replica stays.
    private Arena mirrorArena;
    private MemorySegment mirror;
    private Path mirrorFile;
    private long mirrorCopiedBytes;
    private byte[] committedDeviceState; // null until this process commits; never modified after

    private ReplicaStore(Path dir, String domain, long ramBytes, int pageSizeBytes) throws IOException {
        this.dir = dir;
        this.domain = domain;
        this.ramBytes = ramBytes;
        this.pageSizeBytes = pageSizeBytes;
        CommitRecord record = CommitRecord.readFrom(recordFile());
        if (record != null && record.isCommitted() && record.domain().equals(domain) && record.ramBytes() == ramBytes
                && Files.isRegularFile(deviceStateFile())) {
            lastCommittedEpoch = record.epoch();
            LOG.info("{}: replica holds committed epoch {}", domain, lastCommittedEpoch);
        } else if (record != null) {
            LOG.warn("{}: replica is not usable ({}); it will be rebuilt by a full checkpoint", domain, record);
        }
        this.replica = MappedFiles.mapReadWrite(dir.resolve("memory.replica"), ramBytes, arena);
        this.staging = MappedFiles.mapReadWrite(dir.resolve("staging.mem"), ramBytes, arena);
    }

    /** Opens (creating if needed) the store of {@code domain} under {@code baseDir}. */
    public static ReplicaStore open(Path baseDir, String domain, long ramBytes, int pageSizeBytes) throws IOException {
        Path dir = baseDir.resolve(domain);
        Files.createDirectories(dir);
        return new ReplicaStore(dir, domain, ramBytes, pageSizeBytes);
    }

    /**
     * The epoch the replica of {@code domain} under {@code baseDir} holds, read from its commit record by any
     * process; -1 when there is no committed replica (none yet, or torn by a crash mid-apply).
     */
    public static long committedEpoch(Path baseDir, String domain) {
        CommitRecord record = CommitRecord.readFrom(baseDir.resolve(domain).resolve("commit.record"));
        return record != null && record.isCommitted() ? record.epoch() : -1;
    }

    /**
     * Opens the domain's disk replica (under {@code disk/}) of {@code sizeBytes}, or none for 0. A disk
     * replica that does not hold the same epoch as the memory replica is started anew: a full checkpoint,
     * which copies the whole disk, comes first on every connection.
     */
    void ensureDisk(long sizeBytes) throws IOException {
        if (sizeBytes == 0) {
            return;
        }
        if (disk != null && disk.sizeBytes() == sizeBytes && disk.lastAppliedEpoch() == lastCommittedEpochOrNone()) {
            return;
        }
        if (disk != null) {
            disk.close();
        }
        Path diskDir = dir.resolve("disk");
        DiskReplica opened;
        try {
            opened = DiskReplica.open(diskDir, sizeBytes, MAX_BUFFERED_DISK_BYTES);
        } catch (InconsistentReplicaException e) {
            opened = null;
        }
        if (opened == null || opened.sizeBytes() != sizeBytes || opened.lastAppliedEpoch() != lastCommittedEpochOrNone()) {
            if (opened != null) {
                opened.close();
            }
            LOG.info("{}: starting a new disk replica ({} bytes); the next full checkpoint fills it", domain, sizeBytes);
            FileTrees.delete(diskDir);
            opened = DiskReplica.open(diskDir, sizeBytes, MAX_BUFFERED_DISK_BYTES);
        }
        disk = opened;
    }

    private long lastCommittedEpochOrNone() {
        return lastCommittedEpoch == 0 ? DiskReplica.NO_EPOCH : lastCommittedEpoch;
    }

    /** The disk replica, or null when the domain has no mirrored disk. */
    DiskReplica disk() {
        return disk;
    }

    /** The disk replica's image, or null. */
    public Path diskImage() {
        return disk == null ? null : disk.imagePath();
    }

    public Path directory() {
        return dir;
    }

    public Path replicaFile() {
        return dir.resolve("memory.replica");
    }

    public Path deviceStateFile() {
        return dir.resolve("device-state.bin");
    }

    Path recordFile() {
        return dir.resolve("commit.record");
    }

    public long lastCommittedEpoch() {
        return lastCommittedEpoch;
    }

    public long ramBytes() {
        return ramBytes;
    }

    public int pageSizeBytes() {
        return pageSizeBytes;
    }

    public long pageCount() {
        return ramBytes / pageSizeBytes;
    }

    MemorySegment staging() {
        return staging;
    }

    /** Scratch space to decode one frame's pages into before they are placed in staging (event loop only). */
    MemorySegment scratch(long bytes) {
        if (scratch.byteSize() < bytes) {
            scratch = arena.allocate(Math.max(bytes, 1 << 20), 4096);
        }
        return scratch.asSlice(0, bytes);
    }

    public MemorySegment replica() {
        return replica;
    }

    /**
     * Applies a fully received and verified checkpoint: the staged pages ({@code pageNumbers[i]} is in
     * staging slot {@code i}) go into the replica, then the device state and the record are replaced.
     */
    void commit(long epoch, long[] pageNumbers, int pageCount, byte[] deviceState) throws IOException {
        new CommitRecord(CommitRecord.APPLYING, epoch, domain, ramBytes).writeTo(recordFile());
        if (pageNumbers == null) {
            // A full checkpoint: staging holds a whole image.
            MemorySegment.copy(staging, 0, replica, 0, ramBytes);
            if (mirror != null) {
                MemorySegment.copy(staging, 0, mirror, 0, ramBytes);
            }
            pageCount = 0;
        }
        for (int i = 0; i < pageCount; ) {
            // Coalesce consecutive page numbers into one copy.
            int run = 1;
            while (i + run < pageCount && pageNumbers[i + run] == pageNumbers[i] + run) {
                run++;
            }
            MemorySegment.copy(staging, (long) i * pageSizeBytes, replica, pageNumbers[i] * pageSizeBytes,
                    (long) run * pageSizeBytes);
            if (mirror != null) {
                MemorySegment.copy(staging, (long) i * pageSizeBytes, mirror, pageNumbers[i] * pageSizeBytes,
                        (long) run * pageSizeBytes);
            }
            i += run;
        }
        if (disk != null) {
            disk.commit(epoch); // inside the applying..committed bracket: memory and disk move together
        }
        Path tmp = dir.resolve("device-state.bin.tmp");
        Files.write(tmp, deviceState);
        Files.move(tmp, deviceStateFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        new CommitRecord(CommitRecord.COMMITTED, epoch, domain, ramBytes).writeTo(recordFile());
        lastCommittedEpoch = epoch;
        committedDeviceState = deviceState;
    }

    /**
     * The device state committed with the replica: kept from the last commit (a failover should not wait
     * for a file read), or read from disk when this process committed nothing yet (a restarted backup).
     */
    byte[] committedDeviceState() throws IOException {
        return committedDeviceState != null ? committedDeviceState : Files.readAllBytes(deviceStateFile());
    }

    /**
     * Starts keeping {@code ramFile}, a standby's RAM file (QEMU maps it, shared), equal to the replica:
     * from now on every commit's pages go into it too, and {@link #copyMirrorChunk()} brings the rest over a
     * chunk at a time, so the event loop that owns this store is never blocked for the whole copy (it took
     * 0.7 s for 128 MiB into a fresh sparse file on a busy host). Once every chunk is copied the file holds
     * the last committed checkpoint, and a failover loads only the device state. The replica file stays the
     * record a restarted backup reads.
     *
     * @throws IllegalStateException when the file is not exactly the guest's RAM size
     */
    void startMirroring(Path ramFile) throws IOException {
        stopMirroring();
        long fileBytes = Files.size(ramFile);
        if (fileBytes != ramBytes) {
            throw new IllegalStateException("the standby's RAM file " + ramFile + " has " + fileBytes
                    + " bytes, the guest " + ramBytes);
        }
        Arena mapping = Arena.ofShared();
        try {
            mirror = MappedFiles.mapReadWrite(ramFile, ramBytes, mapping);
        } catch (IOException | RuntimeException e) {
            mapping.close();
            throw e;
        }
        mirrorArena = mapping;
        mirrorFile = ramFile;
        mirrorCopiedBytes = 0;
    }

    /**
     * Copies the next chunk of the replica into the mirror. Commits keep the copied part equal (they write
     * the mirror everywhere), and the part not yet copied is taken from the replica when its turn comes.
     *
     * @return true when the mirror is complete (or there is none)
     */
    boolean copyMirrorChunk() {
        if (mirror == null || mirrorCopiedBytes == ramBytes) {
            return true;
        }
        long bytes = Math.min(MIRROR_CHUNK_BYTES, ramBytes - mirrorCopiedBytes);
        MemorySegment.copy(replica, mirrorCopiedBytes, mirror, mirrorCopiedBytes, bytes);
        mirrorCopiedBytes += bytes;
        return mirrorCopiedBytes == ramBytes;
    }

    /** Stops following the replica into a standby's RAM (the standby is gone, or now runs the guest). */
    void stopMirroring() {
        if (mirrorArena != null) {
            mirrorArena.close();
        }
        mirrorArena = null;
        mirror = null;
        mirrorFile = null;
        mirrorCopiedBytes = 0;
    }

    /** The standby RAM file being kept equal to the replica, complete or not; null when none. */
    Path mirrorFile() {
        return mirrorFile;
    }

    /** The standby RAM file that holds the last committed checkpoint, or null (none, or still being copied). */
    Path mirroredRamFile() {
        return mirror != null && mirrorCopiedBytes == ramBytes ? mirrorFile : null;
    }

    /**
     * The replica has become a running guest's RAM (failover): it no longer holds a checkpoint, and a
     * restarted backup must not offer it as one.
     */
    void markRestored() throws IOException {
        new CommitRecord(CommitRecord.RESTORED, lastCommittedEpoch, domain, ramBytes).writeTo(recordFile());
        lastCommittedEpoch = 0;
    }

    @Override
    public void close() {
        if (disk != null) {
            try {
                disk.close();
            } catch (IOException e) {
                LOG.warn("{}: closing the disk replica: {}", domain, e.toString());
            }
        }
        stopMirroring();
        arena.close();
    }
}
