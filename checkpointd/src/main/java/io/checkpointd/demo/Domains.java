package io.checkpointd.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * libvirt domains a scenario creates, by name, through virsh; {@link #close()} destroys and undefines
 * every one of them that exists, so a failed run leaves no domain behind.
 */
final class Domains implements AutoCloseable {
    private static final String URI = "qemu:///system";
    private final List<String> names;

    Domains(List<String> names) {
        this.names = names;
        close(); // leftovers of an earlier run with the same names
    }

    void define(String xml) throws IOException, InterruptedException {
        Path file = Files.createTempFile("checkpointd-domain", ".xml");
        try {
            Files.writeString(file, xml);
            virsh(true, "define", file.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static String virsh(boolean required, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("virsh", "-q", "-c", URI));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start();
        String output = new String(p.getInputStream().readAllBytes()).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS) || (required && p.exitValue() != 0)) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    @Override
    public void close() {
        for (String name : names) {
            try {
                virsh(false, "destroy", name);
                virsh(false, "undefine", name);
            } catch (IOException e) {
                // Cleanup: a domain that is not there is what we want.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
