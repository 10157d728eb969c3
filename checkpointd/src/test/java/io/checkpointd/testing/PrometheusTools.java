package io.checkpointd.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.checkpointd.cli.Daemons;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * What the observability tests share: the Prometheus binaries of the Debian package {@code prometheus}
 * (skipping, loudly, when they are absent), files of the repository, plain HTTP GETs, free ports and the
 * dashboard's queries.
 */
public final class PrometheusTools {
    public static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    public static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    private static final HttpClient HTTP = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusTools() {
    }

    /**
     * Aborts the calling test when {@code binary} is missing, after printing a SKIPPED line to stderr: a
     * skipped test must be seen, since CI is expected to have the package (bin/run-tests installs it).
     */
    public static void assumeInstalled(Path binary, String test) {
        if (!Files.isExecutable(binary)) {
            String why = binary + " is absent; install the Debian package 'prometheus' (scripts/install-test-deps as root)";
            System.err.println("SKIPPED " + test + ": " + why);
            Assumptions.abort(why);
        }
    }

    /** The result of a finished command. */
    public record Run(int exitCode, String output) {
    }

    /** Runs {@code command} in {@code dir} to its end (at most a minute), stdout and stderr together. */
    public static Run run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(1, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in a minute");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** A file of the repository (tests run in a module directory). */
    public static Path repoFile(String relative) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(relative)) && Files.isDirectory(d.resolve("conf"))) {
                return d.resolve(relative);
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }

    /** GET {@code url}: the status code and the body. */
    public static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A loopback port nobody listens on right now (a race with other processes, fine for tests). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Every PromQL expression in the dashboard: panel targets, annotations and the template variable. */
    public static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = Daemons.JSON.readTree(repoFile("conf/grafana/checkpointd.json").toFile());
        List<String> queries = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> queries.add(e.asText()));
        dashboard.path("templating").findValues("definition").forEach(e -> queries.add(e.asText()));
        return queries;
    }

    /** The names of the samples in a Prometheus text scrape: {@code x_total}, {@code x_seconds_bucket}, ... */
    public static List<String> sampleNames(String scrape) {
        List<String> names = new ArrayList<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
