package io.checkpointd.disk.nbd;

import java.nio.file.Path;

/** The two ways a test reaches the server. */
enum Transport {
    UNIX {
        @Override
        ListenAddress address(Path dir) {
            return new ListenAddress.UnixSocket(dir.resolve("nbd.sock"));
        }
    },
    TCP {
        @Override
        ListenAddress address(Path dir) {
            return ListenAddress.Tcp.loopback(0);
        }
    };

    abstract ListenAddress address(Path dir);
}
