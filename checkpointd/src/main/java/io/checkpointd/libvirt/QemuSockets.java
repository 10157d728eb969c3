package io.checkpointd.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;

/**
 * Places for the unix sockets QEMU talks to. QEMU runs as its own user (libvirt-qemu), not root: a socket
 * it connects to must be its user's, and a socket it creates (an incoming migration) needs a directory
 * it can write. One directory per domain, owned by QEMU's user with mode 0700: nobody else gets in.
 */
final class QemuSockets {
    private QemuSockets() {
    }

    static Path prepareDir(Path dir, String qemuUser) throws IOException {
        Files.createDirectories(dir);
        Files.setOwner(dir, user(dir, qemuUser));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    /** Gives a socket the daemon listens on to QEMU's user. */
    static void handToQemu(Path socket, String qemuUser) throws IOException {
        Files.setOwner(socket, user(socket, qemuUser));
    }

    private static UserPrincipal user(Path path, String name) throws IOException {
        try {
            return path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
        } catch (IOException e) {
            throw new IOException("no user '" + name + "' on this host (libvirt.qemu-user): QEMU's sockets need "
                    + "their owner; see user= in /etc/libvirt/qemu.conf", e);
        }
    }
}
