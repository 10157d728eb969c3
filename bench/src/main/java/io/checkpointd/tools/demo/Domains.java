package io.checkpointd.tools.demo;

import io.checkpointd.testing.HostCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
            HostCommand.run("virsh", "-q", "-c", URI, "define", file.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Override
    public void close() {
        for (String name : names) {
            try {
                HostCommand.virsh("destroy", name);
                HostCommand.virsh("undefine", name);
            } catch (IOException e) {
                // Cleanup: a domain that is not there is what we want.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
