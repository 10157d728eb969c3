package io.checkpointd.primary;

import io.checkpointd.replication.Transport;

/** The failover contract over real TCP on loopback with mutual TLS, as the daemon runs, and the UDP heartbeat channel. */
class TcpFailoverTest extends FailoverContract {
    @Override
    Transport transport() {
        return Transport.TCP;
    }
}
