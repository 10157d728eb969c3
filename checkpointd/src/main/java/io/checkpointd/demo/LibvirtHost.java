package io.checkpointd.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt on this host for a scenario or test: {@code scripts/libvirt-up} installs and starts it if
 * needed; {@link #close()} stops again the daemons this run started, and leaves a host's own running
 * libvirt alone.
 */
public final class LibvirtHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtHost.class);

    private final boolean libvirtdWasRunning;
    private final boolean virtlogdWasRunning;

    private LibvirtHost(boolean libvirtdWasRunning, boolean virtlogdWasRunning) {
        this.libvirtdWasRunning = libvirtdWasRunning;
        this.virtlogdWasRunning = virtlogdWasRunning;
    }

    /** @param log where the script's output goes */
    public static LibvirtHost up(Path repo, Path log) throws IOException, InterruptedException {
        LibvirtHost host = new LibvirtHost(isRunning("libvirtd"), isRunning("virtlogd"));
        try {
            run(log, repo.resolve("scripts/libvirt-up").toString());
        } catch (IOException | InterruptedException e) {
            host.close();
            throw e;
        }
        return host;
    }

    static void run(Path log, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed; see " + log + ":\n" + tail(log));
        }
    }

    static String tail(Path log) throws IOException {
        String[] lines = Files.readString(log).split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 15), lines.length));
    }

    private static boolean isRunning(String executable) {
        return ProcessHandle.allProcesses().anyMatch(p -> isExecutable(p, executable));
    }

    private static boolean isExecutable(ProcessHandle p, String executable) {
        return p.info().command().map(c -> Path.of(c).getFileName().toString().equals(executable)).orElse(false);
    }

    private static void stop(String executable) {
        ProcessHandle.allProcesses().filter(p -> isExecutable(p, executable)).forEach(p -> {
            p.destroy();
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
            LOG.info("stopped {} (pid {}), which this run had started", executable, p.pid());
        });
    }

    @Override
    public void close() {
        if (!libvirtdWasRunning) {
            stop("libvirtd");
        }
        if (!virtlogdWasRunning) {
            stop("virtlogd");
        }
    }
}
