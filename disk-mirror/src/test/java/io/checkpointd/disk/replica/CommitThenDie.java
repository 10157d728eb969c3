package io.checkpointd.disk.replica;

import io.checkpointd.disk.DiskWrite;
import io.checkpointd.disk.Images;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import java.nio.file.Path;
import java.util.List;

/**
 * A backup that dies mid-apply, for {@link DiskReplicaKillTest}: commits {@link #EPOCH_1}, then starts
 * committing {@link #EPOCH_2} and halts the JVM (no finally blocks, no close, like kill -9) after applying
 * change {@code dieAfter} of it.
 *
 * <p>Usage: {@code CommitThenDie DIR MAX_BUFFERED_BYTES DIE_AFTER}
 */
public final class CommitThenDie {
    static final int SIZE = 1 << 20;
    static final int EXIT_CODE = 137;
    static final List<DiskWrite> EPOCH_1 = List.of(
            DiskWrite.write(0, Images.filled(65536, 1)), DiskWrite.write(131072, Images.filled(4096, 2)));
    static final List<DiskWrite> EPOCH_2 = List.of(
            DiskWrite.write(4096, Images.filled(8192, 3)), DiskWrite.trim(0, 1024), DiskWrite.zeroes(131072, 512),
            DiskWrite.write(200_000, Images.filled(70_000, 4)), DiskWrite.write(500_000, Images.filled(1000, 5)));

    private CommitThenDie() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long maxBufferedBytes = Long.parseLong(args[1]);
        int dieAfter = Integer.parseInt(args[2]);
        DiskReplica replica = DiskReplica.open(dir, SIZE, maxBufferedBytes, new CompositeMeterRegistry(), Tags.empty(),
                (epoch, index) -> {
                    if (epoch == 2 && index == dieAfter) {
                        Runtime.getRuntime().halt(EXIT_CODE);
                    }
                });
        for (DiskWrite write : EPOCH_1) {
            replica.append(1, write);
        }
        replica.commit(1);
        for (DiskWrite write : EPOCH_2) {
            replica.append(2, write);
        }
        replica.commit(2);
        System.exit(0); // not reached when dieAfter is within epoch 2
    }
}
