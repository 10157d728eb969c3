package io.checkpointd.config;

/**
 * The allowed values of one numeric key, inclusive, and how to show them in a message. Declared once,
 * beside the field it limits, and used by both the loader (which quotes the text as written) and
 * {@link ConfigValidator} (which formats the value).
 */
record Range(long min, long max, Kind kind) {

    enum Kind { COUNT, DURATION, SIZE }

    static Range count(long min, long max) {
        return new Range(min, max, Kind.COUNT);
    }

    static Range durationNs(long minNs, long maxNs) {
        return new Range(minNs, maxNs, Kind.DURATION);
    }

    static Range bytes(long min, long max) {
        return new Range(min, max, Kind.SIZE);
    }

    boolean contains(long value) {
        return value >= min && value <= max;
    }

    String format(long value) {
        return switch (kind) {
            case COUNT -> Long.toString(value);
            case DURATION -> Units.formatDuration(value);
            case SIZE -> Units.formatBytes(value);
        };
    }

    /** {@code '<shown>' is out of range; write a duration from 1ms to 10s}. */
    String outOfRange(String shown) {
        String what = switch (kind) {
            case COUNT -> "a whole number";
            case DURATION -> "a duration";
            case SIZE -> "a size";
        };
        return "'" + shown + "' is out of range; write " + what + " from " + format(min) + " to " + format(max);
    }
}
