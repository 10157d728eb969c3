package io.checkpointd.primary;

import io.checkpointd.replication.Transport;

/** The failover contract over real TCP on loopback, with the UDP heartbeat channel running. */
class TcpFailoverTest extends FailoverContract {
    @Override
    Transport transport() {
        return Transport.TCP;
    }
}
