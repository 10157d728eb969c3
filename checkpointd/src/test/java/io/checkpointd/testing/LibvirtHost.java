package io.checkpointd.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt on this host for a scenario or test: {@code scripts/libvirt-up --cold} installs it if needed and
 * (re)starts it cold; {@link #close()} stops again the daemons that were not running before, and leaves a
 * host's own libvirt running (restarted).
 */
public final class LibvirtHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtHost.class);

    private final boolean libvirtdWasRunning;
    private final boolean virtlogdWasRunning;

    private LibvirtHost(boolean libvirtdWasRunning, boolean virtlogdWasRunning) {
        this.libvirtdWasRunning = libvirtdWasRunning;
        this.virtlogdWasRunning = virtlogdWasRunning;
    }

    /**
     * Starts libvirt from the state of a fresh machine, on purpose: the daemons restarted and libvirt's
     * cache of QEMU's capabilities removed ({@code scripts/libvirt-up --cold}), so that nothing an earlier
     * run warmed can make a test pass. It costs a few seconds (libvirt probes QEMU again).
     *
     * @param log where the script's output goes
     */
    public static LibvirtHost up(Path repo, Path log) throws IOException, InterruptedException {
        LibvirtHost host = new LibvirtHost(isRunning("libvirtd"), isRunning("virtlogd"));
        try {
            HostCommand.runLogged(log, repo.resolve("scripts/libvirt-up").toString(), "--cold");
        } catch (IOException | InterruptedException e) {
            host.close();
            throw e;
        }
        return host;
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
