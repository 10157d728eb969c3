package io.checkpointd.tools.demo;

import io.checkpointd.cli.Main;
import io.checkpointd.tools.ToolsMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A checkpointd command run as a separate JVM (the demo's primary and backup are separate processes, as
 * on two hosts), with its output in a log file. Uses this JVM's java binary, class path and flags. As
 * {@code bin/checkpointd} does, {@code demo} and {@code tools ...} run the harness ({@link ToolsMain}),
 * anything else the daemon ({@link Main}), both from this class path.
 */
public final class ChildProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private ChildProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    public static ChildProcess start(String name, Path log, List<String> args) throws IOException {
        return startWrapped(name, log, List.of(), args);
    }

    /**
     * Like {@link #start} behind a wrapper command, e.g. {@code ip netns exec NS} to run the child in a
     * network namespace.
     */
    public static ChildProcess startWrapped(String name, Path log, List<String> wrapper, List<String> args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--sun-misc-unsafe-memory-access=allow");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass(args));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ChildProcess(name, p, log);
    }

    private static String mainClass(List<String> args) {
        boolean harness = !args.isEmpty() && (args.getFirst().equals("demo") || args.getFirst().equals("tools"));
        return (harness ? ToolsMain.class : Main.class).getName();
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for the child to exit by itself; returns its status, or -1 if it is still running at the deadline. */
    public int awaitExit(long timeoutNs) throws InterruptedException {
        return process.waitFor(timeoutNs, TimeUnit.NANOSECONDS) ? process.exitValue() : -1;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /**
     * Waits for {@code file} to appear and returns its trimmed content; fails with the child's log tail if
     * the child dies or the time runs out.
     */
    public String awaitFile(Path file, long timeoutNs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutNs;
        while (!Files.exists(file)) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with status " + process.exitValue() + " before it was ready:\n"
                        + logTail());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(name + " was not ready after " + TimeUnit.NANOSECONDS.toSeconds(timeoutNs)
                        + " s:\n" + logTail());
            }
            Thread.sleep(20);
        }
        return Files.readString(file).trim();
    }

    /** Asks the child to stop (SIGTERM) and waits; kills it if it does not stop in time. Returns its exit status. */
    public int stop(long timeoutNs) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeoutNs, TimeUnit.NANOSECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** Kills the child the way a host crash would: SIGKILL, no shutdown hooks, no goodbye. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** The last lines of the child's log. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                stop(TimeUnit.SECONDS.toNanos(10));
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
