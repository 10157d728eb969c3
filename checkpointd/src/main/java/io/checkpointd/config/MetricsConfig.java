package io.checkpointd.config;

import java.util.Objects;

/**
 * The daemon's HTTP endpoint for operators: {@code /metrics} (Prometheus text) and {@code /status} (JSON).
 *
 * <p>Defaults: enabled, on 127.0.0.1:9464 (the port Prometheus's own Java exporters conventionally use).
 * Loopback, because the endpoint says a lot about the guest and has no authentication; put it on another
 * interface only behind a firewall or a proxy. The primary and the backup read the same key, so two
 * daemons on one host need different ports.
 *
 * @param enabled whether the endpoint runs at all
 * @param listen  host:port to bind; port 0 picks a free one (tests, the demo)
 */
public record MetricsConfig(boolean enabled, HostPort listen) {

    public MetricsConfig {
        Objects.requireNonNull(listen, "listen");
    }

    public static MetricsConfig defaults() {
        return new MetricsConfig(true, new HostPort("127.0.0.1", 9464));
    }

    public MetricsConfig withEnabled(boolean enabled) {
        return new MetricsConfig(enabled, listen);
    }

    public MetricsConfig withListen(HostPort listen) {
        return new MetricsConfig(enabled, listen);
    }
}
