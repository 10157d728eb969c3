package io.checkpointd.bench.disk;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A JMH counter of bytes written to the disk image. JMH divides it by the measured time like the primary
 * score, so in a throughput benchmark with seconds as the unit its row reads as MB/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class DiskBytes {
    /** Megabytes (10<sup>6</sup> bytes) written by the guest. */
    public double diskMB;

    @Setup(Level.Iteration)
    public void reset() {
        diskMB = 0;
    }
}
