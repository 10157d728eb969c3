package io.checkpointd.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.Random;

class DirtyStatsTest {
    private static final long EPOCH_NS = 25_000_000;
    private static final double RELATIVE = 1e-9;

    /** Population and sample σ, two-pass in exact decimal arithmetic: the reference Welford must match. */
    private record Reference(double mean, double population, double sample) {
        static Reference of(long[] values) {
            MathContext mc = MathContext.DECIMAL128;
            BigDecimal sum = BigDecimal.ZERO;
            for (long v : values) {
                sum = sum.add(BigDecimal.valueOf(v));
            }
            BigDecimal n = BigDecimal.valueOf(values.length);
            BigDecimal mean = sum.divide(n, mc);
            BigDecimal squares = BigDecimal.ZERO;
            for (long v : values) {
                BigDecimal d = BigDecimal.valueOf(v).subtract(mean);
                squares = squares.add(d.multiply(d));
            }
            double population = squares.divide(n, mc).sqrt(mc).doubleValue();
            double sample = values.length < 2 ? Double.NaN
                    : squares.divide(n.subtract(BigDecimal.ONE), mc).sqrt(mc).doubleValue();
            return new Reference(mean.doubleValue(), population, sample);
        }
    }

    private static DirtyStats recordAll(long[] values) {
        DirtyStats stats = new DirtyStats();
        for (long v : values) {
            stats.record(v, EPOCH_NS);
        }
        return stats;
    }

    private static void assertMatches(DirtyStats stats, long[] values) {
        Reference ref = Reference.of(values);
        assertThat(stats.epochs()).isEqualTo(values.length);
        assertThat(stats.meanDirtyPages()).isCloseTo(ref.mean(), within(Math.abs(ref.mean()) * RELATIVE));
        assertThat(stats.populationStddevDirtyPages())
                .isCloseTo(ref.population(), within(ref.population() * RELATIVE));
        assertThat(stats.sampleStddevDirtyPages()).isCloseTo(ref.sample(), within(ref.sample() * RELATIVE));
    }

    @Test
    void beforeTheFirstEpoch() {
        DirtyStats stats = new DirtyStats();
        assertThat(stats.epochs()).isZero();
        assertThat(stats.lastDirtyPages()).isZero();
        assertThat(stats.minDirtyPages()).isZero();
        assertThat(stats.maxDirtyPages()).isZero();
        assertThat(stats.meanDirtyPages()).isNaN();
        assertThat(stats.populationStddevDirtyPages()).isNaN();
        assertThat(stats.sampleStddevDirtyPages()).isNaN();
        assertThat(stats.lastRatePagesPerSecond()).isZero();
    }

    @Test
    void oneSample() {
        DirtyStats stats = new DirtyStats();
        stats.record(2_500, EPOCH_NS);
        assertThat(stats.epochs()).isOne();
        assertThat(stats.lastDirtyPages()).isEqualTo(2_500);
        assertThat(stats.minDirtyPages()).isEqualTo(2_500);
        assertThat(stats.maxDirtyPages()).isEqualTo(2_500);
        assertThat(stats.meanDirtyPages()).isEqualTo(2_500);
        assertThat(stats.populationStddevDirtyPages()).isZero();
        assertThat(stats.sampleStddevDirtyPages()).as("undefined for one sample").isNaN();
        assertThat(stats.lastRatePagesPerSecond()).isCloseTo(100_000, within(1e-6));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 7, 1_000_000_000_000L, 1_000_000_000_123L})
    void aConstantSeriesHasNoSpread(long value) {
        long[] values = new long[1_000];
        Arrays.fill(values, value);
        DirtyStats stats = recordAll(values);
        assertThat(stats.meanDirtyPages()).isEqualTo(value);
        assertThat(stats.populationStddevDirtyPages()).isZero();
        assertThat(stats.sampleStddevDirtyPages()).isZero();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void matchesTwoPassOnRandomData(long seed) {
        Random random = new Random(seed);
        long[] values = new long[2 + random.nextInt(5_000)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextLong(1_000_000);
        }
        assertMatches(recordAll(values), values);
    }

    @Test
    void twoSamples() {
        long[] values = {10, 20};
        DirtyStats stats = recordAll(values);
        assertThat(stats.populationStddevDirtyPages()).isEqualTo(5);
        assertThat(stats.sampleStddevDirtyPages()).isCloseTo(Math.sqrt(50), within(1e-12));
        assertMatches(stats, values);
    }

    @ParameterizedTest
    @ValueSource(longs = {5, 6, 7})
    void staysAccurateOnLargeOffsetsWhereNaiveSumOfSquaresFails(long seed) {
        Random random = new Random(seed);
        long[] values = new long[10_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = 1_000_000_000_000L + random.nextLong(1_000);
        }
        DirtyStats stats = recordAll(values);
        assertMatches(stats, values);

        // The same data through E[x²] - E[x]² in doubles, to show this test would catch it.
        double sum = 0;
        double sumOfSquares = 0;
        for (long v : values) {
            sum += v;
            sumOfSquares += (double) v * v;
        }
        double mean = sum / values.length;
        double naive = Math.sqrt(Math.max(0, sumOfSquares / values.length - mean * mean));
        double reference = Reference.of(values).population();
        assertThat(Math.abs(naive - reference) / reference).isGreaterThan(1e-3);
    }

    @Test
    void tracksRangeLastValueAndRate() {
        DirtyStats stats = new DirtyStats();
        stats.record(300, EPOCH_NS);
        stats.record(100, EPOCH_NS);
        stats.record(200, 50_000_000);
        assertThat(stats.minDirtyPages()).isEqualTo(100);
        assertThat(stats.maxDirtyPages()).isEqualTo(300);
        assertThat(stats.lastDirtyPages()).isEqualTo(200);
        assertThat(stats.meanDirtyPages()).isEqualTo(200);
        assertThat(stats.lastRatePagesPerSecond()).isCloseTo(4_000, within(1e-9));
    }

    @Test
    void resetStartsOver() {
        DirtyStats stats = recordAll(new long[] {1_000, 5_000, 9_000});
        stats.reset();
        assertThat(stats.epochs()).isZero();
        assertThat(stats.meanDirtyPages()).isNaN();
        assertThat(stats.populationStddevDirtyPages()).isNaN();
        assertThat(stats.lastDirtyPages()).isZero();
        assertThat(stats.minDirtyPages()).isZero();
        assertThat(stats.maxDirtyPages()).isZero();
        assertThat(stats.lastRatePagesPerSecond()).isZero();

        stats.record(50, EPOCH_NS);
        stats.record(70, EPOCH_NS);
        assertThat(stats.minDirtyPages()).isEqualTo(50);
        assertThat(stats.maxDirtyPages()).isEqualTo(70);
        assertThat(stats.meanDirtyPages()).isEqualTo(60);
        assertThat(stats.populationStddevDirtyPages()).isEqualTo(10);
    }

    @Test
    void rejectsImpossibleEpochs() {
        DirtyStats stats = new DirtyStats();
        assertThatThrownBy(() -> stats.record(-1, EPOCH_NS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> stats.record(1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> stats.record(1, -5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(stats.epochs()).isZero();
    }

    @Test
    void rateInMegabytesPerSecond() {
        DirtyStats stats = new DirtyStats();
        assertThat(stats.lastRateMBPerSecond(4096)).isZero();
        stats.record(250, EPOCH_NS); // 10 000 pages/s
        assertThat(stats.lastRateMBPerSecond(4096)).isCloseTo(40.96, within(1e-9));
        assertThat(stats.lastRateMBPerSecond(2 << 20)).isCloseTo(20_971.52, within(1e-6));
        assertThat(DirtyStats.megabytesPerSecond(1e6, 1)).isEqualTo(1.0);
        assertThatThrownBy(() -> stats.lastRateMBPerSecond(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
