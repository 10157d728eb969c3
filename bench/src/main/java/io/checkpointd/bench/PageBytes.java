package io.checkpointd.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A JMH counter of guest-page bytes processed. JMH divides it by the measured time like the primary
 * score, so in a throughput benchmark with seconds as the unit its row reads as MB/s of pages.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class PageBytes {
    /** Megabytes (10<sup>6</sup> bytes) of guest pages, before any encoding. */
    public double pageMB;

    @Setup(Level.Iteration)
    public void reset() {
        pageMB = 0;
    }
}
