package io.checkpointd.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.metrics.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** {@code --metrics-port} and {@code --metrics-port-file}, shared by the daemon commands, and starting the endpoint. */
final class MetricsOptions {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsOptions.class);

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Port of the /metrics and /status endpoint; 0 picks a free one (the port of metrics.listen).")
    Integer port;

    @Option(names = "--metrics-port-file", paramLabel = "FILE",
            description = "Written once the endpoint serves: its bound port.")
    Path portFile;

    CheckpointdConfig applyOverrides(CheckpointdConfig c) {
        return port == null ? c : c.withMetrics(c.metrics().withListen(c.metrics().listen().withPort(port)));
    }

    /**
     * Serves {@code registry} and {@code status} on {@code metrics.listen} and writes the port file; returns
     * null when {@code metrics.enabled} is false.
     */
    MetricsServer serve(CheckpointdConfig config, PrometheusMeterRegistry registry, Supplier<ObjectNode> status)
            throws IOException {
        if (!config.metrics().enabled()) {
            LOG.info("metrics endpoint off (metrics.enabled: false)");
            return null;
        }
        MetricsServer server = MetricsServer.start(config.metrics().listen(), registry,
                () -> status.get().toPrettyString());
        if (portFile != null) {
            Daemons.writeAtomically(portFile, server.port() + "\n");
        }
        return server;
    }
}
