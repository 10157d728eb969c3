package io.checkpointd.replication.tls;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.security.cert.CertificateExpiredException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right after the {@link SslHandler} of a replication connection: a failed handshake is logged with
 * its reason, counted ({@code checkpointd_replication_tls_failures_total{role, reason}}) and closed, before
 * any frame is read; a completed one has its peer's certificate names checked when this side expects a name
 * (the primary expects the backup's). The backup checks the primary's names against the domain at HELLO.
 */
public final class HandshakeGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeGuard.class);

    private final String role;
    private final String expectedPeer; // null: any peer the CA signed (checked later, per domain)
    private final MeterRegistry registry;
    private final AtomicInteger pending; // connections of this listener still in their handshake; null: no cap
    private final int maxPending;
    private boolean counted;
    private boolean turnedAway; // closed on arrival: its handshake never began, so it is not a failure

    /**
     * @param role         "primary" or "backup": this side, for logs and the metric
     * @param expectedPeer the name the peer's certificate must carry, or null to check it later
     * @param pending      shared by a listener's connections: how many are still in their handshake (null: no cap)
     * @param maxPending   beyond this many, a new connection is closed at once: strangers cannot pile up
     */
    public HandshakeGuard(String role, String expectedPeer, MeterRegistry registry, AtomicInteger pending,
                          int maxPending) {
        this.role = role;
        this.expectedPeer = expectedPeer;
        this.registry = registry;
        this.pending = pending;
        this.maxPending = maxPending;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (pending != null) {
            counted = true;
            if (pending.incrementAndGet() > maxPending) {
                counter(registry, role, "too_many_pending").increment();
                turnedAway = true;
                LOG.debug("{}: {} connections are in their TLS handshake already; closing {}", role, maxPending,
                        ctx.channel().remoteAddress());
                ctx.close();
                return;
            }
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        handshakeOver();
        super.channelInactive(ctx);
    }

    private void handshakeOver() {
        if (counted) {
            counted = false;
            pending.decrementAndGet();
        }
    }

    /** Registers the failure counter with every reason at 0, so a dashboard sees the series from the start. */
    public static void registerMetrics(MeterRegistry registry, String role) {
        for (String reason : List.of("no_certificate", "unknown_ca", "expired", "not_tls", "timeout",
                "wrong_peer", "not_allowed", "too_many_pending", "other")) {
            counter(registry, role, reason);
        }
    }

    private static Counter counter(MeterRegistry registry, String role, String reason) {
        return Counter.builder("checkpointd.replication.tls.failures")
                .description("Replication connections refused by TLS: failed handshakes by reason, and peers whose "
                        + "certificate names are not the expected ones (wrong_peer) or not allowed for the domain "
                        + "(not_allowed)")
                .tag("role", role).tag("reason", reason).register(registry);
    }

    /** Counts a refusal decided after the handshake (the backup's per-domain check). */
    public static void countRefusal(MeterRegistry registry, String role, String reason) {
        counter(registry, role, reason).increment();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent done) {
            handshakeOver();
            if (turnedAway) {
                return;
            }
            if (!done.isSuccess()) {
                String reason = reasonOf(done.cause());
                LOG.error("{}: TLS handshake with {} failed ({}): {}; nothing was created", role,
                        ctx.channel().remoteAddress(), reason, messageOf(done.cause()));
                counter(registry, role, reason).increment();
                ctx.close();
                return;
            }
            if (expectedPeer != null) {
                List<String> names = TlsMaterial.peerNames(ctx.pipeline().get(SslHandler.class).engine().getSession());
                if (!names.contains(expectedPeer)) {
                    LOG.error("{}: peer {} presents a certificate for {}, not for '{}' (replication.backup-name); "
                            + "closing", role, ctx.channel().remoteAddress(), names, expectedPeer);
                    counter(registry, role, "wrong_peer").increment();
                    ctx.close();
                    return;
                }
            }
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl != null && !ssl.handshakeFuture().isSuccess()) {
            // A failed handshake (a plain-TCP peer, a bad certificate): the handshake event carries the same
            // cause; it is said once, there.
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /** A short, stable name for why a handshake failed. */
    static String reasonOf(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (t instanceof NotSslRecordException) {
                return "not_tls";
            }
            if (t instanceof SslHandshakeTimeoutException) {
                return "timeout";
            }
            if (t instanceof CertificateExpiredException || m.contains("NotAfter") || m.contains("expired")) {
                return "expired";
            }
            if (m.contains("Empty client certificate chain") || m.contains("Empty server certificate chain")
                    || m.contains("certificate_required") || m.contains("bad_certificate")) {
                return "no_certificate";
            }
            if (m.contains("PKIX path") || m.contains("unable to find valid certification path")
                    || m.contains("certificate_unknown") || m.contains("unknown_ca")) {
                return "unknown_ca";
            }
        }
        return "other";
    }

    private static String messageOf(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root == cause ? String.valueOf(cause.getMessage()) : cause.getMessage() + " (" + root.getMessage() + ")";
    }
}
