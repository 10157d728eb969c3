package io.checkpointd.tools.guest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@link GuestLogCheck} found wrong: a count per kind and the first few, each with where it is. */
public final class Violations {
    public enum Kind {
        /** A sequence missing from the log while later records exist. */
        HOLE,
        /** A record whose sequence lies after the end of the log. */
        STRAY,
        /** A record repeating a sequence the log already has elsewhere. */
        DUPLICATE,
        /** A non-zero slot without the record magic. */
        BAD_MAGIC,
        /** A record with non-zero bytes after its value. */
        PADDING,
        /** A key's value lower than an earlier record of the same key. */
        VALUE_BACKWARDS,
        /** An acknowledged value of a key with no record of it. */
        ACKED_MISSING,
        /** A key whose last record is older than its last acknowledged value. */
        ACKED_LOST;

        /** The name scripts see: {@code bad_magic}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param offsetBytes where in the image; -1 when it concerns a key with no record at all
     */
    public record Violation(Kind kind, long offsetBytes, String message) {
    }

    private final int maxExamples;
    private final Map<Kind, Long> counts = new EnumMap<>(Kind.class);
    private final List<Violation> examples = new ArrayList<>();
    private long total;

    Violations(int maxExamples) {
        this.maxExamples = maxExamples;
    }

    void add(Kind kind, long offsetBytes, String message) {
        total++;
        counts.merge(kind, 1L, Long::sum);
        if (examples.size() < maxExamples) {
            examples.add(new Violation(kind, offsetBytes, message));
        }
    }

    public long total() {
        return total;
    }

    public long count(Kind kind) {
        return counts.getOrDefault(kind, 0L);
    }

    /** Counts of the kinds found, in {@link Kind} order. */
    public Map<Kind, Long> byKind() {
        return Collections.unmodifiableMap(new EnumMap<>(counts));
    }

    /** The first violations, in the order found (structure in offset order, then keys). */
    public List<Violation> examples() {
        return List.copyOf(examples);
    }
}
