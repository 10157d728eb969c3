package io.checkpointd.disk.nbd;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Objects;

/** Where an {@link NbdServer} listens: a unix socket, or a TCP port on a loopback address. */
public sealed interface ListenAddress {

    /**
     * A unix socket at {@code path}, created with mode 0600. A stale socket file left there by a dead server
     * is replaced; a live one (something accepts connections on it) or any other kind of file is an error.
     */
    record UnixSocket(Path path) implements ListenAddress {
        public UnixSocket {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /**
     * A TCP port on a loopback address; port 0 picks a free one ({@link NbdServer#localAddress()} tells
     * which). Only loopback: NBD has no authentication, and the guest's disk must not be reachable from the
     * network.
     */
    record Tcp(InetAddress host, int port) implements ListenAddress {
        public Tcp {
            Objects.requireNonNull(host, "host");
            if (!host.isLoopbackAddress()) {
                throw new IllegalArgumentException("NBD listens on loopback only, not " + host.getHostAddress());
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        public static Tcp loopback(int port) {
            return new Tcp(InetAddress.getLoopbackAddress(), port);
        }

        @Override
        public String toString() {
            return "tcp:" + host.getHostAddress() + ":" + port;
        }
    }
}
