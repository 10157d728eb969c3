package io.checkpointd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show what a running daemon (primary or backup) is doing, from its /status endpoint.",
                "Per domain: state, last committed epoch, lag, peer, protection, whether the backup's standby is "
                        + "ready, pause and ACK times."})
final class StatusCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", defaultValue = "http://127.0.0.1:9464",
            description = "The daemon's endpoint (metrics.listen), with or without a path (default: ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--json", description = "Print the daemon's JSON as it is, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String body = fetch(URI.create(url.contains("://") ? url : "http://" + url).resolve("/status"));
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? body : table(Daemons.JSON.readTree(body)));
        out.flush();
        return 0;
    }

    private String fetch(URI status) throws IOException, InterruptedException {
        HttpResponse<String> response;
        // No proxy: the daemon is on this host or this network, and a proxy would answer for it when it is down.
        try (HttpClient client = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).connectTimeout(TIMEOUT)
                .build()) {
            response = client.send(HttpRequest.newBuilder(status).timeout(TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            // The JDK client's ConnectException often carries no message: a refusal is the usual cause.
            throw new IOException("no checkpointd answering at " + url + ": " + reason(e, "connection refused"), e);
        } catch (HttpTimeoutException e) {
            throw new IOException("no answer from " + url + " within " + TIMEOUT.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new IOException("no checkpointd answering at " + url + ": " + reason(e, e.toString()), e);
        }
        if (response.statusCode() != 200) {
            String body = response.body().strip();
            throw new IOException(status + " answered HTTP " + response.statusCode() + (body.isEmpty()
                    ? " with no explanation; is it a checkpointd endpoint (metrics.listen)?" : ": " + body));
        }
        return response.body();
    }

    /** The first message in the cause chain, lower case: "connection refused", "no route to host". */
    private static String reason(Throwable e, String fallback) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage().toLowerCase(Locale.ROOT);
            }
        }
        return fallback;
    }

    /** The status as a table: one row per domain, then one line per failover. */
    static String table(JsonNode status) {
        StringBuilder s = new StringBuilder();
        s.append("checkpointd ").append(status.path("role").asText()).append(", pid ")
                .append(status.path("pid").asLong()).append("\n\n");
        JsonNode domains = status.path("domains");
        if (domains.isEmpty()) {
            return s.append("no domains yet (a backup lists a domain once its primary has connected)\n").toString();
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("DOMAIN", "ROLE", "STATE", "EPOCH", "LAG", "PEER", "PROTECTED", "STANDBY", "PAUSE p50/p99 ms",
                "ACK p50/p99 ms"));
        for (JsonNode d : domains) {
            rows.add(List.of(d.path("domain").asText(), d.path("role").asText(), d.path("state").asText(),
                    d.path("last_committed_epoch").asText(), orDash(d.path("lag_checkpoints")),
                    d.path("peer").asText() + " " + d.path("peer_state").asText(),
                    d.path("protected").asBoolean() ? "yes" : "NO", standby(d.path("standby_ready")),
                    quantiles(d.path("pause_ms")),
                    quantiles(d.path("ack_ms"))));
        }
        int[] widths = new int[rows.getFirst().size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(String.format("%-" + widths[i] + "s  ", row.get(i)));
            }
            s.append(line.toString().stripTrailing()).append('\n');
        }
        for (JsonNode d : domains) {
            JsonNode f = d.path("failover");
            if (f.isObject()) {
                s.append(String.format("%n%s failed over to this host: resumed epoch %d, primary declared dead after"
                                + " %.0f ms, restored in %.0f ms%n", d.path("domain").asText(),
                        f.path("resumed_epoch").asLong(), f.path("detected_after_ms").asDouble(),
                        f.path("restore_ms").asDouble()));
            }
        }
        return s.toString();
    }

    /** The backup's warm standby: ready, NO (a failover must create the domain first), or - (not applicable). */
    private static String standby(JsonNode ready) {
        return ready.isBoolean() ? (ready.asBoolean() ? "ready" : "NO") : "-";
    }

    private static String orDash(JsonNode value) {
        return value.isNull() || value.isMissingNode() ? "-" : value.asText();
    }

    private static String quantiles(JsonNode ms) {
        if (!ms.isObject() || ms.path("count").asLong() == 0) {
            return "-";
        }
        return String.format("%.2f / %.2f", ms.path("p50").asDouble(), ms.path("p99").asDouble());
    }
}
