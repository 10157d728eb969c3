package io.checkpointd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every daemon command does around its daemon: wait for SIGTERM/SIGINT, close, write the summary. */
public final class Daemons {
    private static final Logger LOG = LoggerFactory.getLogger(Daemons.class);
    public static final ObjectMapper JSON = new ObjectMapper();

    private Daemons() {
    }

    /**
     * Blocks until the JVM is asked to stop, then closes {@code daemon} and, if {@code summaryFile} is set,
     * writes {@code summary} (taken after close, so every count is final) there.
     */
    static void runUntilStopped(AutoCloseable daemon, Path summaryFile, Supplier<ObjectNode> summary) {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = Thread.ofPlatform().name("shutdown").unstarted(() -> {
            LOG.info("stopping");
            try {
                daemon.close();
            } catch (Exception e) {
                LOG.error("error while stopping: {}", e.toString());
            }
            if (summaryFile != null) {
                writeAtomically(summaryFile, summary.get().toPrettyString());
            }
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Rewrites {@code summaryFile} every second while the daemon runs, so a process killed without warning
     * (as a host crash would) still leaves numbers at most a second old.
     */
    static void refreshEverySecond(Path summaryFile, Supplier<ObjectNode> summary) {
        if (summaryFile == null) {
            return;
        }
        Thread.ofPlatform().daemon().name("summary").start(() -> {
            while (true) {
                try {
                    Thread.sleep(1000);
                    writeAtomically(summaryFile, summary.get().toPrettyString());
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.debug("summary not refreshed: {}", e.toString());
                }
            }
        });
    }

    /** Writes a file so a reader never sees half of it. */
    public static void writeAtomically(Path file, String text) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
