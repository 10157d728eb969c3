package io.checkpointd.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A JMH counter of bytes after encoding, beside {@link PageBytes}: {@code pageMB / wireMB} of one
 * benchmark is the compression ratio it achieved.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class WireBytes {
    /** Megabytes (10<sup>6</sup> bytes) as they would go on the wire: compressed, or raw where LZ4 did not help. */
    public double wireMB;

    @Setup(Level.Iteration)
    public void reset() {
        wireMB = 0;
    }
}
