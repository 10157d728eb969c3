package io.checkpointd.replication.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLKeyException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A host's TLS material for the replication connection, in the layout {@code checkpointd certs init} makes
 * and an operator's own PKI can fill: {@code DIR/ca.pem} (the CA every peer's certificate must chain to),
 * {@code DIR/cert.pem} (this host's certificate) and {@code DIR/key.pem} (its PKCS#8 private key).
 *
 * <p>Both sides present a certificate and require one (mutual TLS 1.3, JDK provider). A peer's identity is
 * the name in its certificate (its subject alternative DNS names and its common name); the primary checks
 * the backup's against {@code replication.backup-name}, the backup checks the primary's against the
 * domains it agreed to host ({@code backup.domains}).
 */
public final class TlsMaterial {
    public static final String CA_FILE = "ca.pem";
    public static final String CERT_FILE = "cert.pem";
    public static final String KEY_FILE = "key.pem";
    /** A TLS handshake that has not finished by then is cut: no state exists before it. */
    public static final long HANDSHAKE_TIMEOUT_MS = 5_000;
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    /** AES-128-GCM first: the cheapest TLS 1.3 suite with AES instructions, and checkpoints are bulk data. */
    private static final List<String> CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    private static final String HEARTBEAT_LABEL = "EXPORTER-checkpointd-heartbeat-v1";

    private final Path dir;
    private final SslContext server;
    private final SslContext client;

    private TlsMaterial(Path dir, SslContext server, SslContext client) {
        this.dir = dir;
        this.server = server;
        this.client = client;
    }

    /**
     * Loads {@code dir}; the message of the exception names the file that is missing or unreadable and
     * says how to make one.
     */
    public static TlsMaterial load(Path dir) throws IOException {
        for (String name : new String[] {CA_FILE, CERT_FILE, KEY_FILE}) {
            Path file = dir.resolve(name);
            if (!Files.isReadable(file)) {
                throw new IOException("TLS material: " + file + " is missing or unreadable; a directory for this host "
                        + "holds ca.pem, cert.pem and key.pem (make a lab set with: checkpointd certs init DIR "
                        + "--hosts primary,backup)");
            }
        }
        Path ca = dir.resolve(CA_FILE);
        Path cert = dir.resolve(CERT_FILE);
        Path key = dir.resolve(KEY_FILE);
        try {
            SslContext server = SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .sslProvider(SslProvider.JDK).protocols(PROTOCOLS).ciphers(CIPHERS)
                    .trustManager(ca.toFile()).clientAuth(ClientAuth.REQUIRE).build();
            // No host name verification: peers are checked by the name in their certificate (HandshakeGuard,
            // DomainConsent), not by the address they were reached at.
            SslContext client = SslContextBuilder.forClient().endpointIdentificationAlgorithm(null)
                    .sslProvider(SslProvider.JDK).protocols(PROTOCOLS).ciphers(CIPHERS)
                    .keyManager(cert.toFile(), key.toFile()).trustManager(ca.toFile()).build();
            return new TlsMaterial(dir, server, client);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("TLS material in " + dir + " is not usable (" + e.getMessage() + "): cert.pem must "
                    + "be a PEM certificate, key.pem its PKCS#8 PEM key, ca.pem the CA that signed the peers", e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** The handler a backup puts first on an accepted connection. */
    public SslHandler serverHandler(ByteBufAllocator alloc) {
        return withTimeout(server.newHandler(alloc));
    }

    /** The handler a primary puts first on its connection to the backup. */
    public SslHandler clientHandler(ByteBufAllocator alloc) {
        return withTimeout(client.newHandler(alloc));
    }

    private static SslHandler withTimeout(SslHandler handler) {
        handler.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MS);
        return handler;
    }

    /**
     * Keying material both ends of {@code session} derive alike and nobody else can (RFC 8446's exporter),
     * for the heartbeat keys of this session: {@code bytes} long.
     */
    public static byte[] exportHeartbeatMaterial(SSLSession session, int bytes) {
        try {
            return ((ExtendedSSLSession) session).exportKeyingMaterialData(HEARTBEAT_LABEL, null, bytes);
        } catch (SSLKeyException | ClassCastException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot export keying material from the TLS session for the "
                    + "heartbeats: " + e.getMessage(), e);
        }
    }

    /**
     * The names the peer's certificate carries: its subject alternative DNS names, then its common name.
     * Empty when the session has no verified peer.
     */
    public static List<String> peerNames(SSLSession session) {
        List<String> names = new ArrayList<>();
        try {
            if (!(session.getPeerCertificates()[0] instanceof X509Certificate cert)) {
                return names;
            }
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) { // dNSName
                        names.add(String.valueOf(san.get(1)));
                    }
                }
            }
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN") && !names.contains(String.valueOf(rdn.getValue()))) {
                    names.add(String.valueOf(rdn.getValue()));
                }
            }
        } catch (SSLPeerUnverifiedException | CertificateParsingException | InvalidNameException e) {
            return names;
        }
        return names;
    }
}
