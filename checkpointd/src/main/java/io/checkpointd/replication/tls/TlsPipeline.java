package io.checkpointd.replication.tls;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;

/**
 * Puts TLS in front of a replication connection's pipeline: the {@code SslHandler}, then a
 * {@link HandshakeGuard}. Installed first, before any frame handler, so nothing is read before the peer
 * has proved who it is.
 *
 * @param role         this side, "primary" or "backup"
 * @param expectedPeer the name the peer's certificate must carry (the primary's view of the backup), or null
 */
public record TlsPipeline(TlsMaterial material, String role, String expectedPeer, MeterRegistry registry) {

    public TlsPipeline {
        HandshakeGuard.registerMetrics(registry, role);
    }

    public void install(Channel ch, boolean client) {
        ch.pipeline().addFirst(new HandshakeGuard(role, expectedPeer, registry));
        ch.pipeline().addFirst(client ? material.clientHandler(ch.alloc()) : material.serverHandler(ch.alloc()));
    }
}
