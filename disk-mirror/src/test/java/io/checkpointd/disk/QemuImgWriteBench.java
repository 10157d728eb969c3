package io.checkpointd.disk;

import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Write throughput of a real NBD client, {@code qemu-img bench -w}, against the image file directly and
 * through the server over a unix socket (mirroring nothing, and with an {@link EpochWriteLog} whose epochs
 * a thread closes every 50 ms), in one run, interleaved, median of 3. Not part of the test suite (the name
 * does not end in Test); run it with
 * {@code mvn -pl disk-mirror test -Dtest=QemuImgWriteBench -Dsurefire.failIfNoSpecifiedTests=false}.
 * The image is in {@code /dev/shm} (page cache only) and qemu-img uses writeback caching on every path, so
 * the difference is the NBD hop: qemu's NBD client, the socket, the server. For reference, the same client
 * against QEMU's own server, {@code qemu-nbd}, on the same image.
 *
 * <p>Netty's leak detection is set back to its production level ({@code simple}) for the run: the suite's
 * {@code paranoid} level records a stack trace at every buffer access and would be measured instead.
 */
class QemuImgWriteBench {
    private static final long IMAGE_BYTES = 256L << 20;
    private static final int DEPTH = 16;
    private static final int ROUNDS = 3;
    private static final Pattern COMPLETED = Pattern.compile("Run completed in ([0-9.]+) seconds");

    @Test
    void compare(TestInfo info) throws Exception {
        QemuTools.assumeInstalled(info);
        ResourceLeakDetector.Level suiteLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "qemu-img-bench");
        Path image = Images.create(dir.resolve("disk.img"), IMAGE_BYTES);
        StringBuilder table = new StringBuilder(String.format("%n%-8s %12s %12s %14s %14s %9s %9s %9s%n", "block",
                "direct MB/s", "nbd MB/s", "mirrored MB/s", "qemu-nbd MB/s", "nbd/dir", "mirr/dir", "qnbd/dir"));
        Process qemuNbd = new ProcessBuilder(QemuTools.find("qemu-nbd").orElseThrow().toString(), "-f", "raw", "-x",
                "ref", "-k", dir.resolve("qemu-nbd.sock").toString(), "--cache=writeback", "-t", image.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-nbd.log").toFile()).start();
        String qemuNbdUri = "nbd+unix:///ref?socket=" + dir.resolve("qemu-nbd.sock");
        ScheduledExecutorService epochLoop = Executors.newSingleThreadScheduledExecutor();
        try (EpochWriteLog log = new EpochWriteLog(4L << 30, new CompositeMeterRegistry(), Tags.empty());
             NbdServer plain = NbdServer.start(NbdServerConfig.of("plain", image,
                     new ListenAddress.UnixSocket(dir.resolve("plain.sock"))), WriteListener.NONE,
                     new CompositeMeterRegistry(), Tags.empty());
             NbdServer mirrored = NbdServer.start(NbdServerConfig.of("mirrored", image,
                     new ListenAddress.UnixSocket(dir.resolve("mirrored.sock"))), log, new CompositeMeterRegistry(),
                     Tags.empty())) {
            AtomicLong epoch = new AtomicLong();
            for (int i = 0; i < 100 && !Files.exists(dir.resolve("qemu-nbd.sock")); i++) {
                Thread.sleep(20);
            }
            epochLoop.scheduleAtFixedRate(() -> log.closeEpoch(epoch.incrementAndGet()), 50, 50, TimeUnit.MILLISECONDS);
            for (int[] shape : new int[][] {{4096, 200_000}, {65536, 20_000}}) {
                int block = shape[0];
                int count = shape[1];
                List<Double> direct = new ArrayList<>();
                List<Double> nbd = new ArrayList<>();
                List<Double> mirror = new ArrayList<>();
                List<Double> reference = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    direct.add(megabytesPerSecond(image.toString(), block, count));
                    nbd.add(megabytesPerSecond(plain.uri(), block, count));
                    mirror.add(megabytesPerSecond(mirrored.uri(), block, count));
                    reference.add(megabytesPerSecond(qemuNbdUri, block, count));
                }
                double d = median(direct);
                double n = median(nbd);
                double m = median(mirror);
                double q = median(reference);
                table.append(String.format("%-8s %12.0f %12.0f %14.0f %14.0f %9.2f %9.2f %9.2f%n", block / 1024 + " KiB",
                        d, n, m, q, n / d, m / d, q / d));
            }
        } finally {
            epochLoop.shutdownNow();
            qemuNbd.destroy();
            qemuNbd.waitFor();
            ResourceLeakDetector.setLevel(suiteLevel);
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.out.println("qemu-img bench -w -d " + DEPTH + " -t writeback, median of " + ROUNDS + ":" + table);
    }

    private static double megabytesPerSecond(String target, int block, int count) throws Exception {
        QemuTools.Result result = QemuTools.run(List.of(QemuTools.find("qemu-img").orElseThrow().toString(), "bench",
                "-f", "raw", "-w", "-t", "writeback", "-d", Integer.toString(DEPTH), "-c", Integer.toString(count),
                "-s", Integer.toString(block), target));
        assertThat(result.exitCode()).as(result.output()).isZero();
        Matcher seconds = COMPLETED.matcher(result.output());
        assertThat(seconds.find()).as(result.output()).isTrue();
        return (double) block * count / Double.parseDouble(seconds.group(1)) / 1e6;
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
