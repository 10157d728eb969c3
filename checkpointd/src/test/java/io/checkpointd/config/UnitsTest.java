package io.checkpointd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UnitsTest {

    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    private static final long KIB = 1L << 10;
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "7ns      | 7",
            "3us      | 3000",
            "50ms     | 50000000",
            "2s       | 2000000000",
            "2m       | 120000000000",
            "1h       | 3600000000000",
            "1.5s     | 1500000000",
            "0.25ms   | 250000",
            "' 50 ms '| 50000000",
            "0ms      | 0",
    })
    void parsesDurations(String text, long expectedNs) {
        assertThat(Units.parseDurationNs(text)).isEqualTo(expectedNs);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "512B     | 512",
            "4KiB     | 4096",
            "256MiB   | 268435456",
            "2GiB     | 2147483648",
            "1TiB     | 1099511627776",
            "1KB      | 1000",
            "5MB      | 5000000",
            "3GB      | 3000000000",
            "4K       | 4096",
            "64M      | 67108864",
            "1G       | 1073741824",
            "1.5GiB   | 1610612736",
            "' 64 KiB'| 65536",
    })
    void parsesSizes(String text, long expectedBytes) {
        assertThat(Units.parseBytes(text)).isEqualTo(expectedBytes);
    }

    @Test
    void bareDurationSuggestsMilliseconds() {
        assertThatThrownBy(() -> Units.parseDurationNs("25"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'25' has no unit; write 25ms");
    }

    @Test
    void bareSizeOffersUnits() {
        assertThatThrownBy(() -> Units.parseBytes("25"))
                .hasMessage("'25' has no unit; write 25B, 25KiB or 25MiB");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "\"\"      | empty duration; write a number and a unit, e.g. 50ms",
            "\"   \"     | empty duration; write a number and a unit, e.g. 50ms",
            "-5ms      | '-5ms' is negative; write a duration of zero or more, e.g. 50ms",
            "5parsecs  | '5parsecs' has an unknown unit 'parsecs'; use one of h, m, s, ms, us, ns",
            "5MS       | '5MS' has an unknown unit 'MS'; did you mean 'ms'? use one of h, m, s, ms, us, ns",
            "5sec      | '5sec' has an unknown unit 'sec'; did you mean 's'? use one of h, m, s, ms, us, ns",
            "1h30m     | '1h30m' is not a duration; write one number and one unit, e.g. 50ms (units: h, m, s, ms, us, ns)",
            "1e3ms     | '1e3ms' is not a duration; write one number and one unit, e.g. 50ms (units: h, m, s, ms, us, ns)",
            "ms        | 'ms' is not a duration; write one number and one unit, e.g. 50ms (units: h, m, s, ms, us, ns)",
            "1.5ns     | '1.5ns' is not a whole number of nanoseconds; round it, e.g. 2ns",
            "3000000h  | '3000000h' is too large; write at most 2562047h",
    })
    void rejectsBadDurationsSayingWhatIsAccepted(String text, String message) {
        assertThatThrownBy(() -> Units.parseDurationNs(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "\"\"        | empty size; write a number and a unit, e.g. 256MiB",
            "-1MiB       | '-1MiB' is negative; write a size of zero or more, e.g. 256MiB",
            "5mib        | '5mib' has an unknown unit 'mib'; did you mean 'MiB'? use one of TiB, GiB, MiB, KiB, B, KB, MB, GB, K, M, G",
            "5bytes      | '5bytes' has an unknown unit 'bytes'; did you mean 'B'? use one of TiB, GiB, MiB, KiB, B, KB, MB, GB, K, M, G",
            "0.1KiB      | '0.1KiB' is not a whole number of bytes; round it, e.g. 102B",
            "9000000TiB  | '9000000TiB' is too large; write at most 8388607TiB",
            "lots        | 'lots' is not a size; write one number and one unit, e.g. 256MiB (units: TiB, GiB, MiB, KiB, B, KB, MB, GB, K, M, G)",
    })
    void rejectsBadSizesSayingWhatIsAccepted(String text, String message) {
        assertThatThrownBy(() -> Units.parseBytes(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void acceptsTheLargestValues() {
        assertThat(Units.parseDurationNs(Long.MAX_VALUE + "ns")).isEqualTo(Long.MAX_VALUE);
        assertThat(Units.parseBytes(Long.MAX_VALUE + "B")).isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> Units.parseBytes("9223372036854775808B")).hasMessageContaining("too large");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0             | 0s",
            "50000000      | 50ms",
            "1500000000    | 1.5s",
            "5000000000    | 5s",
            "90000000000   | 1.5m",
            "100000000000  | 100s",
            "3600000000000 | 1h",
            "1234567       | 1234.567us",
            "999           | 999ns",
            "-2000000      | -2ms",
    })
    void formatsDurationsReadably(long ns, String expected) {
        assertThat(Units.formatDuration(ns)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0           | 0B",
            "268435456   | 256MiB",
            "4194304     | 4MiB",
            "1536        | 1.5KiB",
            "1000        | 1000B",
            "1099511627776 | 1TiB",
            "1025        | 1025B",
    })
    void formatsSizesInBinaryUnits(long bytes, String expected) {
        assertThat(Units.formatBytes(bytes)).isEqualTo(expected);
    }

    @Test
    void formattedValuesParseBackToThemselves() {
        SplittableRandom random = new SplittableRandom(42);
        long[] fixed = {0, 1, 999, 1000, 1001, MS, 50 * MS, 1500 * MS, S, 61 * S, 3600 * S, KIB, 1536, MIB, 4 * GIB,
                Long.MAX_VALUE};
        for (long value : fixed) {
            assertRoundTrip(value);
        }
        for (int i = 0; i < 10_000; i++) {
            // Spread over magnitudes, not just the top of the range.
            assertRoundTrip(random.nextLong(Long.MAX_VALUE) >>> random.nextInt(63));
        }
    }

    private static void assertRoundTrip(long value) {
        assertThat(Units.parseDurationNs(Units.formatDuration(value))).as("duration %d", value).isEqualTo(value);
        assertThat(Units.parseBytes(Units.formatBytes(value))).as("bytes %d", value).isEqualTo(value);
    }
}
