package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;
import io.checkpointd.disk.ImageZeroer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The backup's copy of a guest disk, which only ever holds the disk as of a committed checkpoint.
 *
 * <p>The directory holds {@code disk.replica} (the raw image), {@code disk.activation} (the
 * {@linkplain ActivationRecord activation record}: which epoch the image holds) and, while epochs are in
 * flight, {@code spill-<epoch>.log} files ({@link SpillLog}).
 *
 * <p>Changes of epoch N arrive with checkpoint N and are {@linkplain #append appended}: held in memory up to
 * {@code maxBufferedBytes} over all pending epochs; an epoch whose next change does not fit moves whole to
 * its spill log (its buffered changes first), so an epoch is always either all in memory or all in its log.
 * When checkpoint N commits, {@link #commit commit(N)} writes {@code applying N}, applies N's changes in
 * order with positional writes, forces the image, writes {@code applied N} and deletes the spill log. A
 * checkpoint that never commits is {@linkplain #discard discarded}: its changes never touch the image.
 * Acknowledge checkpoint N to the primary only after {@code commit(N)} returned.
 *
 * <p><b>Crash recovery</b> ({@link #open}). {@code applied N}: the image is epoch N; leftover spill logs
 * belong to epochs that never committed and are deleted. {@code applying N}: the backup died mid-apply.
 * If N's spill log is there (it was forced before {@code applying N} was written) it is checked whole and
 * applied again from the start, which is safe because replaying the same bytes at the same offsets in the
 * same order gives the same image, and the record becomes {@code applied N}. If N was held in memory only,
 * its changes died with the process: the image is torn and {@code open} throws
 * {@link InconsistentReplicaException}. (Making every epoch recoverable would mean writing every change
 * twice on the backup; a backup that crashes has lost protection anyway, and the primary resynchronises
 * it when it returns, so recognising the torn image is enough.)
 *
 * <p><b>Not thread-safe</b>: one owner thread (the backup's replication session) makes every call; only
 * the meters may be read elsewhere. Every offset and length is checked against the disk size.
 */
public final class DiskReplica implements AutoCloseable {
    /** {@link #lastAppliedEpoch()} of a replica that never applied an epoch. */
    public static final long NO_EPOCH = -1;
    static final String IMAGE_FILE = "disk.replica";

    private static final Logger LOG = LoggerFactory.getLogger(DiskReplica.class);

    /** Told after each change is applied: the seam through which tests stop a backup mid-apply. */
    interface ApplyObserver {
        ApplyObserver NONE = (epoch, index) -> {
        };

        void applied(long epoch, int index) throws IOException;
    }

    private final Path dir;
    private final FileChannel image;
    private final ImageZeroer zeroer;
    private final long sizeBytes;
    private final long maxBufferedBytes;
    private final ApplyObserver observer;
    private final ReplicaMetrics metrics;
    private final TreeMap<Long, PendingEpoch> pending = new TreeMap<>();
    private long bufferedBytes;
    private long lastAppliedEpoch;
    /** Set when a commit failed part way: the image may be torn, only reopening can tell. */
    private boolean torn;

    private DiskReplica(Path dir, FileChannel image, long sizeBytes, long maxBufferedBytes, ApplyObserver observer,
                        ReplicaMetrics metrics, long lastAppliedEpoch) {
        this.dir = dir;
        this.image = image;
        this.zeroer = ImageZeroer.open(dir.resolve(IMAGE_FILE), image);
        this.sizeBytes = sizeBytes;
        this.maxBufferedBytes = maxBufferedBytes;
        this.observer = observer;
        this.metrics = metrics;
        this.lastAppliedEpoch = lastAppliedEpoch;
        metrics.lastApplied(lastAppliedEpoch);
    }

    /** {@link #open(Path, long, long, MeterRegistry, Iterable)} without meters. */
    public static DiskReplica open(Path dir, long sizeBytes, long maxBufferedBytes) throws IOException {
        return open(dir, sizeBytes, maxBufferedBytes, new CompositeMeterRegistry(), Tags.empty());
    }

    /**
     * Opens (or creates) the replica in {@code dir}, recovering from a crash mid-apply as the class comment
     * describes. A new image is created sparse, all zeroes.
     *
     * @param sizeBytes        the disk's size; an existing image or record of another size is an error
     * @param maxBufferedBytes most bytes of changes held in memory over all pending epochs ({@code >= 0});
     *                         beyond it epochs go to spill logs
     * @throws InconsistentReplicaException if the image is torn and cannot be repaired
     */
    public static DiskReplica open(Path dir, long sizeBytes, long maxBufferedBytes, MeterRegistry registry,
                                   Iterable<Tag> tags) throws IOException {
        return open(dir, sizeBytes, maxBufferedBytes, registry, tags, ApplyObserver.NONE);
    }

    static DiskReplica open(Path dir, long sizeBytes, long maxBufferedBytes, MeterRegistry registry,
                            Iterable<Tag> tags, ApplyObserver observer) throws IOException {
        if (sizeBytes < 0 || maxBufferedBytes < 0) {
            throw new IllegalArgumentException("sizeBytes and maxBufferedBytes must be >= 0: " + sizeBytes + ", "
                    + maxBufferedBytes);
        }
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(tags, "tags");
        Files.createDirectories(dir);
        ActivationRecord record = ActivationRecord.readFrom(dir);
        if (record != null && record.sizeBytes() != sizeBytes) {
            throw new IOException(dir.resolve(ActivationRecord.FILE_NAME) + " is for a " + record.sizeBytes()
                    + "-byte disk, not " + sizeBytes + " bytes");
        }
        FileChannel image = openImage(dir.resolve(IMAGE_FILE), sizeBytes);
        DiskReplica replica = null;
        try {
            replica = new DiskReplica(dir, image, sizeBytes, maxBufferedBytes, observer,
                    new ReplicaMetrics(registry, tags), record == null ? NO_EPOCH : record.epoch());
            if (record != null && record.state() == ActivationRecord.State.APPLYING) {
                replica.finishInterruptedApply(record.epoch());
            }
            replica.deleteStaleFiles();
            return replica;
        } catch (IOException | RuntimeException e) {
            if (replica != null) {
                replica.close();
            } else {
                image.close();
            }
            throw e;
        }
    }

    private static FileChannel openImage(Path file, long sizeBytes) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            long existing = channel.size();
            if (existing == 0 && sizeBytes > 0) {
                // One byte at the end makes a sparse file of the right size.
                channel.write(ByteBuffer.allocate(1), sizeBytes - 1);
            } else if (existing != sizeBytes) {
                throw new IOException(file + " is " + existing + " bytes, not the disk's " + sizeBytes);
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void finishInterruptedApply(long epoch) throws IOException {
        Path spill = SpillLog.fileFor(dir, epoch);
        if (!Files.exists(spill)) {
            throw new InconsistentReplicaException(dir.resolve(IMAGE_FILE) + " is torn: the backup stopped while "
                    + "applying epoch " + epoch + ", whose changes were held in memory only; the disk needs a full "
                    + "resynchronisation", epoch);
        }
        LOG.warn("{}: the backup stopped while applying epoch {}; applying it again from {}", dir, epoch, spill);
        applyFromSpill(epoch, spill);
        image.force(true);
        new ActivationRecord(ActivationRecord.State.APPLIED, epoch, sizeBytes).writeTo(dir);
        Files.delete(spill);
        LOG.info("{}: epoch {} applied; the replica is consistent", dir, epoch);
    }

    /** Spill logs of epochs that never committed, and a half-written record. */
    private void deleteStaleFiles() throws IOException {
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir, "{spill-*.log," + ActivationRecord.FILE_NAME
                + ".tmp}")) {
            for (Path file : stale) {
                LOG.info("{}: deleting {} (left by an earlier run)", dir, file.getFileName());
                Files.delete(file);
            }
        }
    }

    /**
     * Adds a change to epoch {@code epoch}, which must not be applied yet. The replica keeps {@code write}'s
     * data array: the caller hands it over.
     *
     * @throws IllegalArgumentException if the change lies outside the disk, or the epoch is already applied
     * @throws IOException              if spilling to the epoch's log fails
     */
    public void append(long epoch, DiskWrite write) throws IOException {
        checkUsable();
        Objects.requireNonNull(write, "write");
        write.checkWithin(sizeBytes);
        if (epoch <= lastAppliedEpoch) {
            throw new IllegalArgumentException("epoch " + epoch + " is not after the last applied epoch "
                    + lastAppliedEpoch);
        }
        PendingEpoch epochChanges = pending.computeIfAbsent(epoch, e -> new PendingEpoch());
        if (epochChanges.spill == null && write.heldBytes() > maxBufferedBytes - bufferedBytes) {
            spill(epoch, epochChanges);
        }
        if (epochChanges.spill != null) {
            long before = epochChanges.spill.sizeBytes();
            epochChanges.spill.append(write);
            metrics.spilled(epochChanges.spill.sizeBytes() - before);
        } else {
            epochChanges.inMemory.add(write);
            epochChanges.memoryBytes += write.heldBytes();
            bufferedBytes += write.heldBytes();
            metrics.buffered(bufferedBytes);
        }
        epochChanges.count++;
        epochChanges.dataBytes += write.dataBytes();
    }

    /** Moves an epoch's buffered changes to its spill log; later changes of the epoch go there too. */
    private void spill(long epoch, PendingEpoch epochChanges) throws IOException {
        SpillLog log = SpillLog.create(dir, epoch);
        try {
            for (DiskWrite buffered : epochChanges.inMemory) {
                log.append(buffered);
            }
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
        LOG.debug("{}: epoch {} exceeds the memory budget; spilling to {}", dir, epoch, log.file().getFileName());
        metrics.spilled(log.sizeBytes());
        bufferedBytes -= epochChanges.memoryBytes;
        metrics.buffered(bufferedBytes);
        epochChanges.inMemory = List.of();
        epochChanges.memoryBytes = 0;
        epochChanges.spill = log;
    }

    /**
     * Checkpoint {@code epoch} committed: applies its changes to the image (none is fine) and records that
     * the image now holds {@code epoch}. When this returns the change is durable.
     *
     * @throws IllegalArgumentException if {@code epoch} is not after the last applied epoch
     * @throws IllegalStateException    if an earlier epoch is still pending (commit or discard it first)
     * @throws IOException              if applying fails; the replica is then unusable and must be reopened,
     *                                  which repairs it or reports it torn
     */
    public void commit(long epoch) throws IOException {
        checkUsable();
        if (epoch <= lastAppliedEpoch) {
            throw new IllegalArgumentException("epoch " + epoch + " is not after the last applied epoch "
                    + lastAppliedEpoch);
        }
        if (!pending.isEmpty() && pending.firstKey() < epoch) {
            throw new IllegalStateException("epoch " + pending.firstKey() + " is still pending; commit or discard it "
                    + "before committing epoch " + epoch);
        }
        PendingEpoch epochChanges = pending.remove(epoch);
        if (epochChanges == null) {
            new ActivationRecord(ActivationRecord.State.APPLIED, epoch, sizeBytes).writeTo(dir);
            applied(epoch);
            return;
        }
        torn = true; // until the record says applied
        if (epochChanges.spill != null) {
            epochChanges.spill.force();
            epochChanges.spill.close();
        }
        new ActivationRecord(ActivationRecord.State.APPLYING, epoch, sizeBytes).writeTo(dir);
        if (epochChanges.spill != null) {
            applyFromSpill(epoch, epochChanges.spill.file());
        } else {
            applyFromMemory(epoch, epochChanges.inMemory);
            bufferedBytes -= epochChanges.memoryBytes;
            metrics.buffered(bufferedBytes);
        }
        image.force(true);
        new ActivationRecord(ActivationRecord.State.APPLIED, epoch, sizeBytes).writeTo(dir);
        torn = false;
        if (epochChanges.spill != null) {
            Files.delete(epochChanges.spill.file());
        }
        metrics.applied(epochChanges.dataBytes);
        applied(epoch);
    }

    private void applied(long epoch) {
        lastAppliedEpoch = epoch;
        metrics.lastApplied(epoch);
    }

    private void applyFromMemory(long epoch, List<DiskWrite> changes) throws IOException {
        int index = 0;
        for (DiskWrite write : changes) {
            if (write.kind() == DiskWrite.Kind.WRITE) {
                ByteBuffer data = ByteBuffer.wrap(write.data());
                while (data.hasRemaining()) {
                    image.write(data, write.offset() + data.position());
                }
            } else {
                zeroer.zero(write.offset(), write.length(), write.kind() == DiskWrite.Kind.TRIM);
            }
            observer.applied(epoch, index++);
        }
    }

    /** Checks the whole log before changing anything, then applies it. */
    private void applyFromSpill(long epoch, Path spill) throws IOException {
        SpillLog.scan(spill, epoch, sizeBytes, (kind, offset, length, log, dataPosition) -> {
        });
        int[] index = {0};
        SpillLog.scan(spill, epoch, sizeBytes, (kind, offset, length, log, dataPosition) -> {
            if (kind == DiskWrite.Kind.WRITE) {
                SpillLog.copy(log, dataPosition, length, image, offset);
            } else {
                zeroer.zero(offset, length, kind == DiskWrite.Kind.TRIM);
            }
            observer.applied(epoch, index[0]++);
        });
    }

    /**
     * Checkpoint {@code epoch} will never commit: drops its changes (a no-op for an epoch with none).
     */
    public void discard(long epoch) throws IOException {
        checkUsable();
        PendingEpoch epochChanges = pending.remove(epoch);
        if (epochChanges == null) {
            return;
        }
        bufferedBytes -= epochChanges.memoryBytes;
        metrics.buffered(bufferedBytes);
        metrics.discarded(epochChanges.dataBytes);
        if (epochChanges.spill != null) {
            epochChanges.spill.close();
            Files.deleteIfExists(epochChanges.spill.file());
        }
    }

    /** The epoch the image holds, or {@link #NO_EPOCH}. */
    public long lastAppliedEpoch() {
        return lastAppliedEpoch;
    }

    /** Bytes of changes held in memory over all pending epochs. */
    public long bufferedBytes() {
        return bufferedBytes;
    }

    /** Epochs with appended changes that are neither committed nor discarded, oldest first. */
    public List<Long> pendingEpochs() {
        return new ArrayList<>(pending.keySet());
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** The image file, which holds the disk as of {@link #lastAppliedEpoch()}. */
    public Path imagePath() {
        return dir.resolve(IMAGE_FILE);
    }

    private void checkUsable() {
        if (torn) {
            throw new IllegalStateException("a commit failed part way; reopen the replica to repair it or learn that "
                    + "it is torn");
        }
        if (!image.isOpen()) {
            throw new IllegalStateException("the replica is closed");
        }
    }

    /**
     * Closes the image and unregisters the meters. Pending epochs are dropped; their spill logs stay until
     * the next {@link #open}, which deletes them.
     */
    @Override
    public void close() throws IOException {
        try {
            for (PendingEpoch epochChanges : pending.values()) {
                if (epochChanges.spill != null) {
                    epochChanges.spill.close();
                }
            }
            pending.clear();
            zeroer.close();
            image.close();
        } finally {
            metrics.close();
        }
    }

    /** The changes of one epoch not yet committed: in memory, or (once spilled) in {@code spill}. */
    private static final class PendingEpoch {
        List<DiskWrite> inMemory = new ArrayList<>();
        long memoryBytes;
        SpillLog spill;
        int count;
        long dataBytes;
    }
}
