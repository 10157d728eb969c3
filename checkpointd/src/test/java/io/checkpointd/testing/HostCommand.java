package io.checkpointd.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Commands a scenario or test runs on the host ({@code ip}, {@code virsh}, the repository's scripts), with
 * no standard input and a bound on their time; a failure names the command and shows what it printed.
 */
public final class HostCommand {
    private static final long TIMEOUT_MINUTES = 10;
    private static final int TAIL_LINES = 15;

    private HostCommand() {
    }

    /** Runs {@code command}; returns its output (stdout and stderr); throws if it fails. */
    public static String run(String... command) throws IOException, InterruptedException {
        return run(true, command);
    }

    /** Runs {@code command} for its output, whatever its status: cleanup and probes. */
    public static String probe(String... command) throws IOException, InterruptedException {
        return run(false, command);
    }

    /** {@code virsh -c qemu:///system ARGS}, whatever its status. */
    public static String virsh(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("virsh", "-c", "qemu:///system"));
        command.addAll(List.of(args));
        return probe(command.toArray(String[]::new));
    }

    /** Runs {@code command} with its output appended to {@code log}; throws with the log's tail if it fails. */
    public static void runLogged(Path log, String... command) throws IOException, InterruptedException {
        Process p = start(new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())));
        if (!finished(p) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed; see " + log + ":\n"
                    + tail(Files.readString(log)));
        }
    }

    /** The last lines of {@code text}. */
    public static String tail(String text) {
        String[] lines = text.split("\n");
        return String.join("\n", Arrays.copyOfRange(lines, Math.max(0, lines.length - TAIL_LINES), lines.length));
    }

    private static String run(boolean required, String... command) throws IOException, InterruptedException {
        Process p = start(new ProcessBuilder(command));
        String output = new String(p.getInputStream().readAllBytes()).strip();
        if (!finished(p) || (required && p.exitValue() != 0)) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    private static Process start(ProcessBuilder builder) throws IOException {
        return builder.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }

    private static boolean finished(Process p) throws InterruptedException {
        if (p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            return true;
        }
        p.destroyForcibly();
        return false;
    }
}
