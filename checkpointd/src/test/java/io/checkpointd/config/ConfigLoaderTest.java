package io.checkpointd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {

    /** Every key the loader knows, as the brief and the example file name them. */
    private static final List<String> ALL_KEYS = List.of(
            "domain.name", "domain.driver", "domain.dirty-tracker",
            "epoch.interval", "epoch.max-in-flight", "epoch.full-sync",
            "replication.backup", "replication.listen", "replication.compression", "replication.batch-pages",
            "replication.max-frame", "replication.connect-timeout", "replication.tls", "replication.tls-dir",
            "replication.backup-name",
            "net-buffer.output-commit", "net-buffer.max-held", "net-buffer.max-held-frames",
            "sim.ram", "sim.page-size", "sim.dirty-rate", "sim.hot-set", "sim.hot-fraction", "sim.writer-threads",
            "sim.service-port", "sim.keys", "sim.disk",
            "backup.dir", "backup.domains", "backup.max-ram",
            "failure-detector.heartbeat-interval", "failure-detector.suspect-after", "failure-detector.dead-after",
            "pre-copy.few-pages", "pre-copy.max-rounds", "pre-copy.max-ram-multiple", "pre-copy.sigma-after-rounds", "pre-copy.sigma-window",
            "pre-copy.sigma-low", "pre-copy.sigma-high",
            "metrics.enabled", "metrics.listen",
            "libvirt.uri", "libvirt.tap", "libvirt.disk-image", "libvirt.guest-ipv4", "libvirt.qemu-user",
            "libvirt.run-dir", "libvirt.restored-name", "libvirt.warm-standby");

    @TempDir
    Path dir;

    // ---- the example file and the defaults ----

    @Test
    void exampleFileEqualsTheDefaults() throws Exception {
        assertThat(ConfigLoader.load(exampleFile())).isEqualTo(CheckpointdConfig.defaults());
    }

    @Test
    void tlsAndTheBackupsDomainsLoadAndBadNamesAreNamed() throws Exception {
        CheckpointdConfig c = ConfigLoader.load(write("replication:\n  tls: off\n  backup-name: b1\n"
                + "backup:\n  domains: {web1: [primary-a, primary-b], pbx: [p]}\n"));
        assertThat(c.replication().tls().enabled()).isFalse();
        assertThat(c.replication().tls().backupName()).isEqualTo("b1");
        assertThat(c.backup().domains()).isEqualTo(java.util.Map.of("web1", List.of("primary-a", "primary-b"),
                "pbx", List.of("p")));
        assertThatThrownBy(() -> ConfigLoader.load(write("backup:\n  domains: {web1: primary}\n")))
                .hasMessageContaining("backup.domains.web1: expected a list of names in brackets");
        assertThatThrownBy(() -> ConfigLoader.load(write("backup:\n  domains: {'../x': [p]}\n")))
                .hasMessageContaining("'../x' is not a plain name");
    }

    @Test
    void exampleFileListsEveryKeyWithACommentAboveIt() throws Exception {
        Path example = exampleFile();
        JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(example.toFile());
        List<String> paths = new ArrayList<>();
        tree.properties().forEach(section -> section.getValue().properties()
                .forEach(key -> paths.add(section.getKey() + "." + key.getKey())));
        assertThat(paths).containsExactlyElementsOf(ALL_KEYS);

        List<String> lines = Files.readAllLines(example);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("^ +[a-z-]+:.*")) {
                assertThat(lines.get(i - 1).strip()).as("line above '%s'", lines.get(i).strip()).startsWith("#");
            }
        }
    }

    @Test
    void libvirtExamplesLoadAndSayWhatTheyPromise() throws Exception {
        Path libvirt = exampleFile().resolveSibling("libvirt");
        CheckpointdConfig primary = ConfigLoader.load(libvirt.resolve("primary.yaml"));
        assertThat(primary.domain().driver()).isEqualTo(DomainConfig.LIBVIRT);
        assertThat(primary.libvirt().tap()).isEqualTo("cptap0");
        assertThat(primary.libvirt().diskImage()).isEqualTo(Path.of("/var/lib/checkpointd/images/web1.raw"));
        assertThat(primary.libvirt().guestIpv4()).isEqualTo("10.0.0.2");
        assertThat(primary.replication().tls().dir()).isEqualTo(Path.of("/etc/checkpointd/tls/primary-a"));
        CheckpointdConfig backup = ConfigLoader.load(libvirt.resolve("backup.yaml"));
        assertThat(backup.libvirt().tap()).isEqualTo("cptap0");
        assertThat(backup.replication().tls().dir()).isEqualTo(Path.of("/etc/checkpointd/tls/backup"));
        assertThat(backup.backup().domains()).isEqualTo(java.util.Map.of("web1", List.of("primary-a")));
        assertThat(backup.libvirt().restoredName()).isEmpty();
    }

    @Test
    void libvirtKeysAreChecked() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "libvirt:\n  tap: this-name-is-far-too-long\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("libvirt.tap")
                .hasMessageContaining("at most 15 characters");
        Files.writeString(file, "libvirt:\n  guest-ipv4: 10.0.0.300\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("libvirt.guest-ipv4")
                .hasMessageContaining("not an IPv4 address");
        Files.writeString(file, "libvirt:\n  disk-image:\n");
        assertThat(ConfigLoader.load(file).libvirt().hasDisk()).isFalse();
    }

    @Test
    void defaultsAreValid() throws Exception {
        assertThat(ConfigValidator.validate(CheckpointdConfig.defaults(), "defaults"))
                .isEqualTo(CheckpointdConfig.defaults());
    }

    @Test
    void emptyFilesMeanAllDefaults() throws Exception {
        for (String empty : List.of("", "\n\n", "# nothing set\n", "---\n", "epoch:\nsim:\n")) {
            assertThat(ConfigLoader.load(write(empty))).as("'%s'", empty).isEqualTo(CheckpointdConfig.defaults());
        }
    }

    @Test
    void missingKeysTakeTheirDefaults() throws Exception {
        CheckpointdConfig config = ConfigLoader.load(write("epoch:\n  interval: 25ms\n"));

        CheckpointdConfig defaults = CheckpointdConfig.defaults();
        assertThat(config).isEqualTo(defaults.withEpoch(defaults.epoch().withIntervalNs(25_000_000L)));
    }

    @Test
    void loadOrDefaultsWithoutAFileGivesTheDefaults() throws Exception {
        assertThat(ConfigLoader.loadOrDefaults(null)).isEqualTo(CheckpointdConfig.defaults());
        assertThat(ConfigLoader.loadOrDefaults(write("epoch:\n  max-in-flight: 3\n")).epoch().maxInFlight()).isEqualTo(3);
    }

    // ---- every key round-trips from YAML to the record ----

    @Test
    void everyKeyReachesItsField() throws Exception {
        Path file = write("""
                domain:
                  name: pbx
                  driver: libvirt
                epoch:
                  interval: 25ms
                  max-in-flight: 4
                replication:
                  backup: "[2001:db8::2]:7411"
                  listen: 0.0.0.0:0
                  compression: none
                  batch-pages: 128
                  max-frame: 16MiB
                  connect-timeout: 1.5s
                net-buffer:
                  output-commit: false
                  max-held: 1GiB
                  max-held-frames: 1000
                sim:
                  ram: 1GiB
                  page-size: 64KiB
                  dirty-rate: 0
                  hot-set: 64MiB
                  hot-fraction: 0.5
                  writer-threads: 0
                  service-port: 0
                  keys: 100
                backup:
                  dir: replica
                metrics:
                  enabled: false
                  listen: 0.0.0.0:0
                """);

        CheckpointdConfig d = CheckpointdConfig.defaults();
        CheckpointdConfig expected = d
                .withDomain(d.domain().withName("pbx").withDriver(DomainConfig.LIBVIRT))
                .withEpoch(d.epoch().withIntervalNs(25_000_000L).withMaxInFlight(4))
                .withReplication(d.replication()
                        .withBackup(new HostPort("2001:db8::2", 7411))
                        .withListen(new HostPort("0.0.0.0", 0))
                        .withCompression(Compression.NONE)
                        .withBatchPages(128)
                        .withMaxFrameBytes(16L << 20)
                        .withConnectTimeoutNs(1_500_000_000L))
                .withNetBuffer(d.netBuffer().withOutputCommit(false).withMaxHeldBytes(1L << 30).withMaxHeldFrames(1000))
                .withSim(d.sim().withRamBytes(1L << 30).withPageSizeBytes(64 << 10).withDirtyPagesPerSecond(0)
                        .withHotSetBytes(64L << 20).withHotFraction(0.5).withWriterThreads(0).withServicePort(0)
                        .withKeys(100))
                .withBackup(d.backup().withDir(dir.resolve("replica")))
                .withMetrics(d.metrics().withEnabled(false).withListen(new HostPort("0.0.0.0", 0)));
        assertThat(ConfigLoader.load(file)).isEqualTo(expected);
    }

    @Test
    void choicesIgnoreCase() throws Exception {
        CheckpointdConfig config = ConfigLoader.load(write("domain:\n  driver: SIM\nreplication:\n  compression: LZ4\n"));
        assertThat(config.domain().driver()).isEqualTo("sim");
        assertThat(config.replication().compression()).isEqualTo(Compression.LZ4);
    }

    @Test
    void absoluteBackupDirIsKeptAsWritten() throws Exception {
        assertThat(ConfigLoader.load(write("backup:\n  dir: /srv/replica\n")).backup().dir())
                .isEqualTo(Path.of("/srv/replica"));
    }

    // ---- errors: each names the file and the key path, says what is wrong and how to fix it ----

    static List<Arguments> keyErrors() {
        return List.of(
                // units
                error("epoch:\n  interval: 25\n", "epoch.interval", "'25' has no unit; write 25ms"),
                error("epoch:\n  interval: 1.5\n", "epoch.interval", "'1.5' has no unit; write 1.5ms"),
                error("sim:\n  ram: 268435456\n", "sim.ram", "'268435456' has no unit; write 268435456B, "),
                error("epoch:\n  interval: 50 parsecs\n", "epoch.interval", "'50 parsecs' has an unknown unit 'parsecs'; use one of h, m, s, ms, us, ns"),
                error("epoch:\n  interval: -5ms\n", "epoch.interval", "'-5ms' is negative"),
                error("replication:\n  max-frame: 99999999999TiB\n", "replication.max-frame", "'99999999999TiB' is too large; write at most 8388607TiB"),
                error("epoch:\n  interval: \"\"\n", "epoch.interval", "no value; write a duration such as 50ms"),
                error("epoch:\n  interval:\n", "epoch.interval", "no value; write a duration such as 50ms, or delete"),
                // unknown keys, with a suggestion by edit distance or the list of keys
                error("epoch:\n  intervall: 25ms\n", "epoch.intervall", "unknown key; did you mean 'interval'?"),
                error("epoch:\n  maxInFlight: 3\n", "epoch.maxInFlight", "unknown key; did you mean 'max-in-flight'?"),
                error("epoch:\n  interval-ns: 5\n", "epoch.interval-ns", "unknown key; did you mean 'interval'?"),
                error("sim:\n  ram_size: 1GiB\n", "sim.ram_size", "unknown key; did you mean 'ram'?"),
                error("sim:\n  memory: 1GiB\n", "sim.memory",
                        "unknown key; the keys of sim are ram, page-size, dirty-rate, hot-set, hot-fraction, "
                                + "writer-threads, service-port, keys"),
                error("epochs:\n  interval: 25ms\n", "epochs", "unknown key; did you mean 'epoch'?"),
                error("netbuffer:\n  max-held: 1MiB\n", "netbuffer", "unknown key; did you mean 'net-buffer'?"),
                error("colour: blue\n", "colour",
                        "unknown key; the sections are domain, epoch, replication, net-buffer, sim, backup"),
                // wrong types
                error("sim:\n  hot-fraction: [0.5]\n", "sim.hot-fraction", "expected a number, got a list"),
                error("sim:\n  hot-fraction: lots\n", "sim.hot-fraction",
                        "expected a number, got a string ('lots'); write a number from 0 to 1 without quotes, e.g. 0.9"),
                error("epoch:\n  max-in-flight: \"2\"\n", "epoch.max-in-flight",
                        "expected a whole number, got a string ('2'); write digits only"),
                error("epoch:\n  max-in-flight: 2.5\n", "epoch.max-in-flight",
                        "expected a whole number, got a number (2.5)"),
                error("net-buffer:\n  output-commit: maybe\n", "net-buffer.output-commit",
                        "expected true or false, got a string ('maybe'); write true or false"),
                error("epoch: 50ms\n", "epoch",
                        "expected a section of keys, got a string ('50ms'); write 'epoch:' alone on its line"),
                error("epoch:\n  interval:\n    value: 5ms\n", "epoch.interval",
                        "expected a duration, got a section of keys; write a single value, e.g. 50ms"),
                error("domain:\n  name: 123\n", "domain.name", "expected a string, got a number (123); put it in quotes: \"123\""),
                error("replication:\n  backup: 7410\n", "replication.backup",
                        "expected host:port, got a number (7410); write host:port, e.g. 127.0.0.1:7410"),
                error("replication:\n  backup: [\"::1\"]\n", "replication.backup",
                        "expected host:port, got a list; write a single value"),
                error("backup:\n  dir: 5\n", "backup.dir", "expected a directory, got a number (5); put it in quotes"),
                // bad values
                error("replication:\n  backup: backup-host\n", "replication.backup",
                        "'backup-host' has no port; write backup-host:7410"),
                error("domain:\n  driver: simm\n", "domain.driver",
                        "'simm' is not one of sim, libvirt; did you mean 'sim'? write sim or libvirt"),
                error("replication:\n  compression: zstd\n", "replication.compression",
                        "'zstd' is not one of lz4, none; write lz4 or none"),
                // out of range, with the allowed range
                error("epoch:\n  interval: 20s\n", "epoch.interval",
                        "'20s' is out of range; write a duration from 1ms to 10s"),
                error("epoch:\n  interval: 500us\n", "epoch.interval",
                        "'500us' is out of range; write a duration from 1ms to 10s"),
                error("epoch:\n  max-in-flight: 65\n", "epoch.max-in-flight",
                        "'65' is out of range; write a whole number from 1 to 64"),
                error("epoch:\n  max-in-flight: 99999999999999999999\n", "epoch.max-in-flight",
                        "'99999999999999999999' is out of range; write a whole number from 1 to 64"),
                error("replication:\n  batch-pages: 0\n", "replication.batch-pages",
                        "'0' is out of range; write a whole number from 1 to 1024"),
                error("replication:\n  max-frame: 128MiB\n", "replication.max-frame",
                        "'128MiB' is out of range; write a size from 64KiB to 64MiB"),
                error("replication:\n  connect-timeout: 1h\n", "replication.connect-timeout",
                        "'1h' is out of range; write a duration from 1ms to 10m"),
                error("net-buffer:\n  max-held: 1KiB\n", "net-buffer.max-held",
                        "'1KiB' is out of range; write a size from 64KiB to 16GiB"),
                error("sim:\n  ram: 8MiB\n", "sim.ram", "'8MiB' is out of range; write a size from 16MiB to 1TiB"),
                error("sim:\n  page-size: 1KiB\n", "sim.page-size",
                        "'1KiB' is out of range; write a size from 4KiB to 2MiB"),
                error("sim:\n  hot-fraction: 1.5\n", "sim.hot-fraction",
                        "'1.5' is out of range; write a number from 0 to 1"),
                error("sim:\n  writer-threads: 17\n", "sim.writer-threads",
                        "'17' is out of range; write a whole number from 0 to 16"),
                error("sim:\n  service-port: 70000\n", "sim.service-port",
                        "'70000' is out of range; write a whole number from 0 to 65535"),
                error("sim:\n  keys: 0\n", "sim.keys", "'0' is out of range; write a whole number from 1 to 1000000"),
                // checks across fields
                error("sim:\n  page-size: 12KiB\n", "sim.page-size", "'12KiB' is not a power of two; write 8KiB or 16KiB"),
                error("sim:\n  ram: 17MiB\n  page-size: 2MiB\n", "sim.ram",
                        "'17MiB' is not a multiple of sim.page-size (2MiB); write 16MiB or 18MiB"),
                error("sim:\n  ram: 64MiB\n  hot-set: 128MiB\n", "sim.hot-set",
                        "'128MiB' is outside one page (4KiB) to sim.ram (64MiB)"),
                error("sim:\n  writer-threads: 0\n", "sim.writer-threads",
                        "0 threads cannot dirty 20000 pages/s (sim.dirty-rate); write 1 or more, or set sim.dirty-rate to 0"),
                error("sim:\n  ram: 16MiB\n  hot-set: 1MiB\n  keys: 1000000\n", "sim.keys",
                        "1000000 keys need 62500KiB (64 bytes each) but sim.ram is 16MiB; write at most 262144 or raise sim.ram"),
                error("replication:\n  batch-pages: 1024\n", "replication.max-frame",
                        "'4MiB' cannot hold a batch of 1024 pages of 4KiB (sim.page-size), which needs 4219216B; "
                                + "raise it to 5MiB or lower replication.batch-pages to 1017"),
                error("replication:\n  backup: 10.0.0.2:0\n", "replication.backup",
                        "port 0 cannot be connected to; write the port the backup listens on, e.g. 10.0.0.2:7410"),
                error("domain:\n  name: a/b\n", "domain.name", "'a/b' is not a usable name"));
    }

    private static Arguments error(String yaml, String keyPath, String detail) {
        return Arguments.of(yaml, keyPath, detail);
    }

    @ParameterizedTest(name = "{1}: {2}")
    @MethodSource("keyErrors")
    void keyErrorsNameFileAndKeyAndSayHowToFix(String yaml, String keyPath, String detail) throws IOException {
        Path file = write(yaml);

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.source()).isEqualTo(file.toString());
                    assertThat(e.keyPath()).isEqualTo(keyPath);
                    assertThat(e.getMessage())
                            .startsWith(file + ": " + keyPath + ": " + detail)
                            .contains("; ")
                            .doesNotContain("\n");
                });
    }

    @Test
    void theStyleGuideExampleReadsExactly() throws IOException {
        Path file = write("epoch:\n  interval: 25\n");

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .hasMessage(file + ": epoch.interval: '25' has no unit; write 25ms");
    }

    @Test
    void theFirstErrorInTheFileIsReported() throws IOException {
        Path file = write("epoch:\n  interval: 25\n  intervall: 3\nsim:\n  keys: 0\n");

        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining(": epoch.interval: ");
    }

    // ---- errors about the file as a whole ----

    static List<Arguments> syntaxErrors() {
        return List.of(
                Arguments.of("epoch:\n\tinterval: 5ms\n", "line 2, column 1: a tab character where YAML expects spaces; "
                        + "indent with spaces only"),
                Arguments.of("epoch:\n  interval: 5ms\n max-in-flight: 3\n", "line 3, column 2: the indentation does not "
                        + "line up with the lines above"),
                Arguments.of("epoch:\n  interval: 5ms\n  interval: 6ms\n", "line 3, column 11: key 'interval' appears "
                        + "twice in one section; keep one of them"),
                Arguments.of("domain:\n  name: a: b\n", "line 2, column 10: mapping values are not allowed here; check the "
                        + "indentation (spaces only) and quote values that contain ': ' or start with '[' or '{'"),
                Arguments.of("replication:\n  backup: [::1]:7410\n", "line 2, column 12: expected the node content, "
                        + "but found ':'; check the indentation"),
                Arguments.of("domain:\n  name: \"demo\n", "line 3, column 1: found unexpected end of stream; "),
                Arguments.of("epoch:\n  interval: 5ms\n---\nepoch:\n  interval: 6ms\n", "line 4, column 1: a second "
                        + "YAML document (after '---'); keep everything in one document"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("syntaxErrors")
    void syntaxErrorsGiveLineAndColumn(String yaml, String detail) throws IOException {
        Path file = write(yaml);

        assertFileError(file).hasMessageStartingWith(file + ": " + detail);
    }

    @Test
    void aTopLevelThatIsNotAMapIsRefused() throws IOException {
        Path file = write("- epoch\n- sim\n");

        assertFileError(file).hasMessage(file + ": expected sections such as 'epoch:' at the top level, got a list; "
                + "start from conf/checkpointd.yaml");
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("checkpointd.yaml");

        assertFileError(file).hasMessageStartingWith(file + ": file not found (looked at " + file.toAbsolutePath()
                + "); check the path");
        assertThatThrownBy(() -> ConfigLoader.loadOrDefaults(file)).hasMessageContaining("file not found");
    }

    @Test
    void directoryInsteadOfFile() throws IOException {
        Path file = Files.createDirectory(dir.resolve("checkpointd.yaml"));

        assertFileError(file).hasMessage(file + ": is a directory; give the path of the YAML file inside it");
    }

    @Test
    void unreadableFile() throws IOException {
        Path file = write("epoch:\n  interval: 5ms\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        if (Files.isReadable(file)) {
            // Surefire shows only a count for skips; say why where a reader of the build log will see it.
            System.err.println("SKIPPED ConfigLoaderTest.unreadableFile: file permissions are not enforced for user "
                    + System.getProperty("user.name") + " (root reads any file), so this path cannot be exercised");
        }
        assumeThat(Files.isReadable(file)).as("permissions are not enforced for this user (root?)").isFalse();

        assertFileError(file).hasMessageStartingWith(file + ": permission denied; make the file readable by user");
    }

    @Test
    void hugeFileIsRefusedUnread() throws IOException {
        Path file = dir.resolve("checkpointd.yaml");
        Files.write(file, new byte[(int) ConfigLoader.MAX_FILE_BYTES + 1]);

        assertFileError(file).hasMessage(file + ": is 1048577B, too large for a config file; check that this is "
                + "the right file");
    }

    // ---- helpers ----

    private AbstractThrowableAssert<?, ? extends Throwable> assertFileError(Path file) {
        return assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.source()).isEqualTo(file.toString());
                    assertThat(e.keyPath()).isNull();
                    assertThat(e.getMessage()).contains("; ").doesNotContain("\n");
                });
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("checkpointd.yaml"), yaml);
    }

    /** conf/checkpointd.yaml at the repository root, found from wherever the build runs the tests. */
    private static Path exampleFile() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("conf/checkpointd.yaml");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("conf/checkpointd.yaml not found above " + Path.of("").toAbsolutePath());
    }
}
