package io.checkpointd.disk;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.TestInfo;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The qemu-utils NBD clients, {@code qemu-io} and {@code qemu-img}, found on {@code PATH} (then in /usr/bin).
 * Tests that need them call {@link #assumeInstalled}: without them the test is skipped with a line on stderr
 * saying so ({@code scripts/install-test-deps qemu-utils} installs them).
 */
public final class QemuTools {
    private static final long TIMEOUT_SECONDS = 60;

    private QemuTools() {
    }

    public static Optional<Path> find(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.add("/usr/bin");
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, tool)).filter(Files::isExecutable)
                .findFirst();
    }

    /** Aborts the calling test (reported as skipped) when qemu-io or qemu-img is missing. */
    public static void assumeInstalled(TestInfo info) {
        String test = info.getTestClass().map(Class::getSimpleName).orElse("?") + "."
                + info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("?") + " " + info.getDisplayName();
        for (String tool : List.of("qemu-io", "qemu-img")) {
            if (find(tool).isEmpty()) {
                System.err.println("SKIPPED " + test + ": " + tool + " not installed (scripts/install-test-deps qemu-utils)");
                Assumptions.abort(tool + " not installed");
            }
        }
    }

    public record Result(int exitCode, String output) {
    }

    /** Runs a command to completion (60 s at most), stdout and stderr together. */
    public static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("qemu-tool", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(command + " did not finish within " + TIMEOUT_SECONDS + " s: "
                        + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * {@code qemu-io -f raw -t writeback URI -c CMD ...}; returns its output, failing the test if any command
     * failed. Writeback caching as a guest disk has it: qemu-io's default, writethrough, sets FUA on every write.
     */
    public static String qemuIo(String uri, String... commands) throws IOException, InterruptedException {
        Result result = qemuIoResult(uri, commands);
        assertThat(result.exitCode()).as("qemu-io %s %s:%n%s", uri, List.of(commands), result.output()).isZero();
        return result.output();
    }

    public static Result qemuIoResult(String uri, String... commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(tool("qemu-io"), "-f", "raw", "-t", "writeback", uri));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        return run(command);
    }

    /** {@code qemu-img ARGS...}; returns its output, failing the test on a non-zero exit. */
    public static String qemuImg(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(tool("qemu-img")));
        command.addAll(List.of(args));
        Result result = run(command);
        assertThat(result.exitCode()).as("%s:%n%s", command, result.output()).isZero();
        return result.output();
    }

    private static String tool(String name) {
        return find(name).orElseThrow(() -> new AssertionError(name + " not installed")).toString();
    }
}
