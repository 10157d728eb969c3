package io.checkpointd.disk.nbd;

import io.checkpointd.disk.DiskWrite;
import io.checkpointd.disk.ImageZeroer;
import io.checkpointd.disk.Images;
import io.checkpointd.disk.QemuTools;
import io.checkpointd.disk.RecordingListener;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static io.checkpointd.disk.QemuTools.qemuImg;
import static io.checkpointd.disk.QemuTools.qemuIo;
import static org.assertj.core.api.Assertions.assertThat;

/** The server as real NBD clients see it: qemu-io and qemu-img from qemu-utils, over a unix socket and TCP. */
@Timeout(120)
class NbdServerQemuTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RecordingListener listener = new RecordingListener();
    private Path image;
    private NbdServer server;
    /** What the image must hold: every change the test makes is made here too. */
    private byte[] expected;

    @BeforeEach
    void setUp(TestInfo test) throws IOException {
        QemuTools.assumeInstalled(test);
        image = Images.create(dir.resolve("disk.img"), SIZE);
        expected = new byte[SIZE];
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private void start(Transport transport) throws IOException {
        server = NbdServer.start(NbdServerConfig.of("disk0", image, transport.address(dir)), listener, registry,
                Tags.of("disk", "disk0"));
    }

    private void assertImageMatchesExpected() throws IOException {
        assertThat(Arrays.mismatch(Files.readAllBytes(image), expected)).as("first differing byte").isEqualTo(-1);
    }

    private double syncs(String reason) {
        return registry.get(NbdMetrics.SYNCS).tag("reason", reason).counter().count();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void patternsWrittenThroughTheServerLandInTheImageExactly(Transport transport) throws Exception {
        start(transport);

        qemuIo(server.uri(), "write -P 0xab 0 64k", "write -P 0xcd 1M 4k", "write -P 0x11 100000 3000",
                "read -P 0xab 0 64k", "read -P 0xcd 1M 4k", "read -P 0x11 100000 3000", "read -P 0 64k 1000");
        Arrays.fill(expected, 0, 65536, (byte) 0xab);
        Arrays.fill(expected, 1 << 20, (1 << 20) + 4096, (byte) 0xcd);
        Arrays.fill(expected, 100000, 103000, (byte) 0x11);

        assertImageMatchesExpected();
        assertThat(listener.writes()).containsExactly(
                DiskWrite.write(0, Images.filled(65536, 0xab)),
                DiskWrite.write(1 << 20, Images.filled(4096, 0xcd)),
                DiskWrite.write(100000, Images.filled(3000, 0x11)));
        assertThat(registry.get(NbdMetrics.WRITTEN_BYTES).counter().count()).isEqualTo(65536 + 4096 + 3000);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void qemuImgSeesTheSameDiskAsTheImageFile(Transport transport) throws Exception {
        start(transport);
        qemuIo(server.uri(), "write -P 0x5c 512k 128k");

        assertThat(qemuImg("compare", "-f", "raw", "-F", "raw", image.toString(), server.uri()))
                .contains("Images are identical");
        assertThat(qemuImg("info", "-f", "raw", server.uri())).contains("virtual size: 4 MiB");

        Path copy = dir.resolve("copy.img");
        qemuImg("convert", "-f", "raw", "-O", "raw", server.uri(), copy.toString());
        assertThat(Images.sha256(copy)).isEqualTo(Images.sha256(image));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void fuaWriteForcesTheImageAndFlushForcesItToo(Transport transport) throws Exception {
        start(transport);
        double flushesBefore = syncs("flush");

        qemuIo(server.uri(), "write -f -P 0x5a 8k 4k", "write -P 0x5b 16k 4k", "flush");
        Arrays.fill(expected, 8192, 12288, (byte) 0x5a);
        Arrays.fill(expected, 16384, 20480, (byte) 0x5b);

        assertImageMatchesExpected();
        assertThat(syncs("fua")).as("one FUA write, one fsync").isEqualTo(1);
        assertThat(syncs("flush")).as("the explicit flush (qemu-io may add one on exit)")
                .isGreaterThanOrEqualTo(flushesBefore + 1);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void discardTrimsTheRangeToZeroesAndFreesItsBlocks(Transport transport) throws Exception {
        start(transport);
        qemuIo(server.uri(), "write -P 0x77 0 256k");
        qemuIo(server.uri(), "discard 64k 128k", "read -P 0x77 0 64k", "read -P 0 64k 128k", "read -P 0x77 192k 64k");
        Arrays.fill(expected, 0, 65536, (byte) 0x77);
        Arrays.fill(expected, 196608, 262144, (byte) 0x77);

        assertImageMatchesExpected();
        assertThat(listener.writes()).contains(DiskWrite.trim(65536, 131072));
        // qemu-img map of the image file itself: the trimmed range is a hole now (where holes can be punched).
        Assumptions.assumeTrue(canPunchHoles(), "the filesystem of " + dir + " cannot punch holes");
        assertThat(qemuImg("map", "--output=json", "-f", "raw", image.toString()))
                .contains("{ \"start\": 65536, \"length\": 131072, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false");
    }

    private boolean canPunchHoles() throws IOException {
        Path probe = Images.create(dir.resolve("probe.img"), 1 << 20);
        try (FileChannel channel = FileChannel.open(probe, StandardOpenOption.WRITE);
             ImageZeroer zeroer = ImageZeroer.open(probe, channel)) {
            zeroer.zero(0, 4096, true);
            return zeroer.canZeroFast();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void writeZeroesZeroesTheRangeWithAndWithoutUnmap(Transport transport) throws Exception {
        start(transport);
        qemuIo(server.uri(), "write -P 0x99 0 256k");
        qemuIo(server.uri(), "write -z 0 64k", "write -z -u 128k 64k", "read -P 0 0 64k", "read -P 0x99 64k 64k",
                "read -P 0 128k 64k");
        Arrays.fill(expected, 65536, 131072, (byte) 0x99);
        Arrays.fill(expected, 196608, 262144, (byte) 0x99);

        assertImageMatchesExpected();
        assertThat(listener.writes()).contains(DiskWrite.zeroes(0, 65536), DiskWrite.zeroes(131072, 65536));
    }
}
