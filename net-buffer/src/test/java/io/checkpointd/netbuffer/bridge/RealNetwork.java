package io.checkpointd.netbuffer.bridge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;

/** Real tap devices and network namespaces for tests: the skip rule, unique names and the ip command. */
final class RealNetwork {
    private static final long COMMAND_TIMEOUT_MS = 10_000;

    private RealNetwork() {
    }

    /**
     * Skips the calling test class, with a SKIPPED line on stderr, unless taps and namespaces can be made
     * here: running as root, with /dev/net/tun.
     */
    static void assumeAvailable(String test) {
        String why = null;
        long uid = effectiveUid();
        if (uid != 0) {
            why = "not root (effective uid " + uid + "): tap devices and network namespaces need CAP_NET_ADMIN";
        } else if (!Files.exists(Path.of("/dev/net/tun"))) {
            why = "/dev/net/tun is missing (modprobe tun)";
        }
        if (why != null) {
            System.err.println("SKIPPED " + test + ": " + why);
        }
        Assumptions.assumeTrue(why == null, why);
    }

    /** {@code prefix} and 6 random hex digits: short enough for an interface name. */
    static String uniqueName(String prefix) {
        byte[] random = new byte[3];
        ThreadLocalRandom.current().nextBytes(random);
        return prefix + HexFormat.of().formatHex(random);
    }

    /** Runs a command and returns its output; fails with that output if it exits non-zero. */
    static String run(String... command) {
        Result result = tryRun(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + result.exitCode() + ": "
                    + result.output());
        }
        return result.output();
    }

    /** Runs a command and returns its exit code and output, stdout and stderr together. */
    static Result tryRun(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** True if {@code ip link show dev NAME} finds the device (in the namespace of {@code ipPrefix}). */
    static boolean linkExists(String name, String... ipPrefix) {
        String[] command = concat(concat(new String[] {"ip"}, ipPrefix), new String[] {"link", "show", "dev", name});
        return tryRun(command).exitCode() == 0;
    }

    /** True if the device's flags include UP (administratively up). */
    static boolean linkUp(String name, String... ipPrefix) {
        String[] command = concat(concat(new String[] {"ip", "-o"}, ipPrefix), new String[] {"link", "show", "dev", name});
        return run(command).matches("(?s)[^<]*<([^>]*,)?UP(,[^>]*)?>.*");
    }

    /** Polls {@code condition} every 10 ms; fails with {@code what} after {@code timeoutMs}. */
    static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (deadlineNs - System.nanoTime() < 0) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    private static long effectiveUid() {
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : status) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[2]);
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    record Result(int exitCode, String output) {
    }
}
