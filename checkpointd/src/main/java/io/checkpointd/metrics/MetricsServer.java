package io.checkpointd.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.checkpointd.config.HostPort;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon's HTTP endpoint for operators. {@code GET /metrics} answers the registry in Prometheus text
 * format; {@code GET /status} answers the JSON the status supplier builds; any other path is a 404 with a
 * one-line body.
 *
 * <p>One thread serves requests one after another: Prometheus scrapes every few seconds and a person asks
 * for status now and then, so a pool would only add threads to a host whose cores belong to guests. A
 * request reads meters and thread-safe accessors; it never waits on the epoch loop.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    /** The Prometheus text exposition format, version 0.0.4: what every Prometheus server reads. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String PLAIN_TEXT = "text/plain; charset=utf-8";

    private static final int WORKERS = 4;
    /** Seconds a client may take to send its request (the JDK server's own limit, off by default). */
    private static final String MAX_REQUEST_SECONDS = "10";

    static {
        // Read once by the JDK's HTTP server when it is first used: set it before, unless the operator did.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", MAX_REQUEST_SECONDS);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final PrometheusMeterRegistry registry;
    private final Supplier<String> status;

    private MetricsServer(HttpServer server, PrometheusMeterRegistry registry, Supplier<String> status) {
        this.server = server;
        this.registry = registry;
        this.status = status;
        // More than one worker: a client that never finishes its request holds one until the request timeout,
        // and scrapes and /status go on meanwhile.
        this.executor = Executors.newFixedThreadPool(WORKERS, Thread.ofPlatform().daemon().name("metrics-http-", 0)
                .factory());
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /**
     * Binds {@code listen} (port 0 picks a free port) and starts serving.
     *
     * @param status builds the {@code /status} body, JSON; called on the server's thread for each request
     * @throws IOException naming the address and the settings to change when it cannot be bound
     */
    public static MetricsServer start(HostPort listen, PrometheusMeterRegistry registry, Supplier<String> status)
            throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 0);
        } catch (BindException e) {
            throw new IOException("cannot serve metrics on " + listen + ": " + e.getMessage() + "; choose another port"
                    + " with --metrics-port or metrics.listen (two daemons on one host need different ports)", e);
        }
        MetricsServer metrics = new MetricsServer(server, registry, status);
        LOG.info("metrics on {}/metrics, status on {}/status", metrics.url(), metrics.url());
        return metrics;
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://host:port} of the bound address, without a path. */
    public String url() {
        return "http://" + new HostPort(server.getAddress().getHostString(), port());
    }

    private record Response(int code, String contentType, String body) {
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Response r = respond(exchange.getRequestMethod(), exchange.getRequestURI().getPath());
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", r.contentType());
            exchange.sendResponseHeaders(r.code(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private Response respond(String method, String path) {
        if (!"GET".equals(method)) {
            return new Response(405, PLAIN_TEXT, method + " is not supported; use GET\n");
        }
        try {
            return switch (path) {
                case "/metrics" -> new Response(200, PROMETHEUS_TEXT, registry.scrape());
                case "/status" -> new Response(200, "application/json", status.get() + "\n");
                default -> new Response(404, PLAIN_TEXT,
                        "not found: " + path + " (this endpoint serves /metrics and /status)\n");
            };
        } catch (RuntimeException e) {
            LOG.warn("GET {} failed: {}", path, e.toString());
            return new Response(503, PLAIN_TEXT, "unavailable: " + e.getMessage() + "\n");
        }
    }

    /** Stops serving at once; a scrape under way is cut off, as it would be by the process exiting. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
