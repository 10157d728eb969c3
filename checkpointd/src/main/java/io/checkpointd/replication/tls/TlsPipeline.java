package io.checkpointd.replication.tls;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts TLS in front of a replication connection's pipeline: the {@code SslHandler}, then a
 * {@link HandshakeGuard}. Installed first, before any frame handler, so nothing is read before the peer
 * has proved who it is.
 *
 * @param role         this side, "primary" or "backup"
 * @param expectedPeer the name the peer's certificate must carry (the primary's view of the backup), or null
 */
public record TlsPipeline(TlsMaterial material, String role, String expectedPeer, MeterRegistry registry,
                          AtomicInteger pending) {
    /**
     * Connections a listener lets wait in their TLS handshake at once (each for at most the handshake
     * timeout); more are closed on arrival. A primary needs one; the rest would be strangers or scanners.
     */
    public static final int MAX_PENDING_HANDSHAKES = 64;

    public TlsPipeline {
        HandshakeGuard.registerMetrics(registry, role);
    }

    public TlsPipeline(TlsMaterial material, String role, String expectedPeer, MeterRegistry registry) {
        this(material, role, expectedPeer, registry, new AtomicInteger());
    }

    public void install(Channel ch, boolean client) {
        ch.pipeline().addFirst(new HandshakeGuard(role, expectedPeer, registry, client ? null : pending,
                MAX_PENDING_HANDSHAKES));
        ch.pipeline().addFirst(client ? material.clientHandler(ch.alloc()) : material.serverHandler(ch.alloc()));
    }
}
