package io.checkpointd.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations and sizes written the way people write them: {@code 50ms}, {@code 1.5s}, {@code 256MiB}.
 *
 * <p>Every parse error is an {@link IllegalArgumentException} whose message reads
 * {@code <what is wrong>; <how to fix it>}, so {@link ConfigLoader} can prefix it with the file and key.
 *
 * <p>A number without a unit is always an error: a bare {@code 25} could mean milliseconds or seconds,
 * bytes or mebibytes, and a wrong guess is off by a factor of a thousand or a million.
 */
public final class Units {

    private static final Dimension DURATION = new Dimension("duration", "nanoseconds", "ns", "50ms",
            units("h", 3_600_000_000_000L, "m", 60_000_000_000L, "s", 1_000_000_000L,
                  "ms", 1_000_000L, "us", 1_000L, "ns", 1L),
            6,
            Map.ofEntries(
                    Map.entry("sec", "s"), Map.entry("secs", "s"), Map.entry("second", "s"),
                    Map.entry("seconds", "s"), Map.entry("min", "m"), Map.entry("mins", "m"),
                    Map.entry("minute", "m"), Map.entry("minutes", "m"), Map.entry("hr", "h"),
                    Map.entry("hrs", "h"), Map.entry("hour", "h"), Map.entry("hours", "h"),
                    Map.entry("msec", "ms"), Map.entry("millis", "ms"), Map.entry("usec", "us"),
                    Map.entry("micros", "us"), Map.entry("µs", "us"), Map.entry("nsec", "ns"),
                    Map.entry("nanos", "ns")));

    private static final Dimension SIZE = new Dimension("size", "bytes", "B", "256MiB",
            units("TiB", 1L << 40, "GiB", 1L << 30, "MiB", 1L << 20, "KiB", 1L << 10, "B", 1L,
                  "KB", 1_000L, "MB", 1_000_000L, "GB", 1_000_000_000L,
                  "K", 1L << 10, "M", 1L << 20, "G", 1L << 30),
            5, // formatBytes writes binary units only, so a log never mixes KB and KiB
            Map.of("byte", "B", "bytes", "B"));

    /** A number (digits, optionally a fraction) and whatever follows it up to the end. */
    private static final Pattern QUANTITY = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([^\\d\\s.]*)");
    private static final int MAX_QUOTED_CHARS = 40;
    private static final int FORMAT_DECIMALS = 3;

    private Units() {
    }

    /**
     * Parses a duration such as {@code 50ms}, {@code 1.5s} or {@code 2 m} into nanoseconds.
     *
     * <p>Units: {@code ns, us, ms, s, m} (minutes), {@code h}. Case matters: {@code m} is minutes, so
     * {@code MS} is refused rather than guessed. Decimals are allowed as long as the result is a whole
     * number of nanoseconds; whitespace may surround the number and sit between number and unit.
     *
     * @throws IllegalArgumentException if the text is empty, negative, has no unit or an unknown one, is not
     *                                  a whole number of nanoseconds, or exceeds {@link Long#MAX_VALUE} ns
     */
    public static long parseDurationNs(String text) {
        return parse(text, DURATION);
    }

    /**
     * Parses a size such as {@code 256MiB}, {@code 1.5GiB} or {@code 64 KiB} into bytes.
     *
     * <p>Units: {@code B}; binary {@code KiB, MiB, GiB, TiB} and their aliases {@code K, M, G}; decimal
     * {@code KB, MB, GB}. Case matters. Decimals are allowed as long as the result is a whole number of
     * bytes.
     *
     * @throws IllegalArgumentException if the text is empty, negative, has no unit or an unknown one, is not
     *                                  a whole number of bytes, or exceeds {@link Long#MAX_VALUE} bytes
     */
    public static long parseBytes(String text) {
        return parse(text, SIZE);
    }

    /**
     * Formats nanoseconds for logs and messages in the largest unit that shows the value as at least 1
     * with at most three decimals: {@code 50ms}, {@code 1.5s}, {@code 1234.567us}, {@code 0s}. For values of
     * zero or more the result parses back to the same value with {@link #parseDurationNs}.
     */
    public static String formatDuration(long ns) {
        return format(ns, DURATION);
    }

    /**
     * Formats bytes in binary units the same way: {@code 256MiB}, {@code 1.5KiB}, {@code 1000B}. For values
     * of zero or more the result parses back to the same value with {@link #parseBytes}.
     */
    public static String formatBytes(long bytes) {
        return format(bytes, SIZE);
    }

    private static long parse(String text, Dimension d) {
        Objects.requireNonNull(text, "text");
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty " + d.kind + "; write a number and a unit, e.g. " + d.example);
        }
        if (trimmed.startsWith("-")) {
            throw new IllegalArgumentException(quote(trimmed) + " is negative; write a " + d.kind
                    + " of zero or more, e.g. " + d.example);
        }
        Matcher m = QUANTITY.matcher(trimmed);
        if (!m.matches()) {
            throw new IllegalArgumentException(quote(trimmed) + " is not a " + d.kind
                    + "; write one number and one unit, e.g. " + d.example + " (units: " + d.accepted() + ")");
        }
        String number = m.group(1);
        String unit = m.group(2);
        if (unit.isEmpty()) {
            throw new IllegalArgumentException(quote(trimmed) + " has no unit; write " + d.withUnits(number));
        }
        Long multiplier = d.units.get(unit);
        if (multiplier == null) {
            throw new IllegalArgumentException(quote(trimmed) + " has an unknown unit '" + unit + "'; "
                    + d.didYouMean(unit) + "use one of " + d.accepted());
        }
        BigDecimal value = new BigDecimal(number).multiply(BigDecimal.valueOf(multiplier));
        if (value.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(quote(trimmed) + " is too large; write at most "
                    + (Long.MAX_VALUE / multiplier) + unit);
        }
        if (value.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException(quote(trimmed) + " is not a whole number of " + d.baseName
                    + "; round it, e.g. " + value.setScale(0, RoundingMode.HALF_UP).toPlainString() + d.baseUnit);
        }
        return value.longValueExact();
    }

    private static String format(long value, Dimension d) {
        if (value == 0) {
            return "0" + (d == DURATION ? "s" : "B");
        }
        BigDecimal exact = BigDecimal.valueOf(value);
        int tried = 0;
        for (Map.Entry<String, Long> unit : d.units.entrySet()) {
            if (tried++ == d.formattedUnits) {
                break;
            }
            BigDecimal multiplier = BigDecimal.valueOf(unit.getValue());
            BigDecimal scaled = exact.divide(multiplier, FORMAT_DECIMALS, RoundingMode.DOWN);
            if (scaled.multiply(multiplier).compareTo(exact) == 0 && scaled.abs().compareTo(BigDecimal.ONE) >= 0) {
                return scaled.stripTrailingZeros().toPlainString() + unit.getKey();
            }
        }
        return value + d.baseUnit; // unreachable: the base unit (multiplier 1) always matches
    }

    private static String quote(String text) {
        return "'" + (text.length() <= MAX_QUOTED_CHARS ? text : text.substring(0, MAX_QUOTED_CHARS) + "...") + "'";
    }

    private static SequencedMap<String, Long> units(Object... symbolThenMultiplier) {
        SequencedMap<String, Long> map = new LinkedHashMap<>();
        for (int i = 0; i < symbolThenMultiplier.length; i += 2) {
            map.put((String) symbolThenMultiplier[i], (Long) symbolThenMultiplier[i + 1]);
        }
        return Collections.unmodifiableSequencedMap(map);
    }

    /**
     * One kind of quantity.
     *
     * @param units          symbol to multiplier; the first {@code formattedUnits}, largest first, are the
     *                       ones {@link #format} writes
     * @param aliases        spellings people reach for, mapped to the unit they mean: for hints only, so the
     *                       files stay uniform
     */
    private record Dimension(String kind, String baseName, String baseUnit, String example,
                             SequencedMap<String, Long> units, int formattedUnits, Map<String, String> aliases) {

        String accepted() {
            return String.join(", ", units.sequencedKeySet());
        }

        /** The fix for a bare number: sizes offer three units because which one was meant is anyone's guess. */
        String withUnits(String number) {
            return this == SIZE ? number + "B, " + number + "KiB or " + number + "MiB" : number + "ms";
        }

        String didYouMean(String unit) {
            String meant = aliases.getOrDefault(unit, aliases.get(unit.toLowerCase(Locale.ROOT)));
            for (String known : units.sequencedKeySet()) {
                if (meant == null && known.equalsIgnoreCase(unit)) {
                    meant = known;
                }
            }
            return meant == null ? "" : "did you mean '" + meant + "'? ";
        }
    }
}
