package io.checkpointd.tools.demo;

import io.checkpointd.sim.KvLayout;
import io.checkpointd.util.MappedFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The independent witness of output commit. It reads the backup's committed replica directly (a read-only
 * mapping of the backup's file, not anything the primary or net-buffer reports) and checks each reply a
 * client receives: a reply saying key k holds value v may only leave the primary after the backup
 * committed a checkpoint with k at v or later. A reply whose value the replica does not have yet was
 * released early.
 *
 * <p>Sound because the client has at most one request per key in flight and writes increasing values,
 * so the replica's value for k can only be behind v, never ahead, when the output commit is broken.
 */
public final class ReplicaObserver implements ReplyObserver, AutoCloseable {
    private static final int EXAMPLES = 5;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment replica;
    private final KvLayout layout;
    private final List<String> examples = new ArrayList<>();
    private long checked;
    private long earlyReleases;

    public ReplicaObserver(Path replicaFile, KvLayout layout) throws IOException {
        this.replica = MappedFiles.mapReadOnly(replicaFile, arena);
        this.layout = layout;
    }

    /** Checks one received reply: the replica must already hold {@code value} (or later) for {@code key}. */
    @Override
    public void onReply(int key, long value) {
        checked++;
        long committed = layout.valueOf(replica, key);
        if (committed < value) {
            earlyReleases++;
            if (examples.size() < EXAMPLES) {
                examples.add("key " + key + ": client saw " + value + ", backup replica had " + committed);
            }
        }
    }

    public long checked() {
        return checked;
    }

    public long earlyReleases() {
        return earlyReleases;
    }

    public List<String> examples() {
        return List.copyOf(examples);
    }

    @Override
    public void close() {
        arena.close();
    }
}
