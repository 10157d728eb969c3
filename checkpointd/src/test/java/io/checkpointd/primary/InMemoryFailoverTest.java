package io.checkpointd.primary;

import io.checkpointd.replication.Transport;

/** The failover contract over Netty's in-VM channels: no sockets, heartbeats only on the connection. */
class InMemoryFailoverTest extends FailoverContract {
    @Override
    Transport transport() {
        return Transport.IN_MEMORY;
    }
}
