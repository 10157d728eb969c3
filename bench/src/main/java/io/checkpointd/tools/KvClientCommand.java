package io.checkpointd.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.cli.Converters;
import io.checkpointd.cli.Daemons;
import io.checkpointd.config.HostPort;
import io.checkpointd.tools.demo.KvClient;
import io.checkpointd.tools.demo.ReplyObserver;
import io.checkpointd.tools.guest.AckedValues;
import io.checkpointd.util.NanoClock;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "kv-client", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load a guest's key-value service over UDP; check no acknowledged write is lost.",
                "Like the demo's client (guest/service.c or the sim's service): --concurrency",
                "requests in flight, 90%% SET of a key's next value (1, 2, 3, ...), 10%% GET,",
                "each resent unchanged every --retry-after until answered. After --duration it",
                "finishes what is in flight and reads back every key it wrote: a value older",
                "than the last acknowledged one is a lost write. It reports the longest stretch",
                "without any answer with its wall-clock start and end (epoch ms), so a test",
                "that noted when it killed the primary can tell how long until the next answer.",
                "Values start at 1 per key: run it once against a freshly started guest."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the load ran, every key written was read back, and no acknowledged write was lost",
                "1:error: no answer at all within --duration, keys not read back within --sweep-timeout,"
                        + " requests refused as BAD_REQUEST, or an address or file that cannot be used",
                "2:invalid command line",
                "3:an acknowledged write was lost (a later read showed an older value)"})
final class KvClientCommand implements Callable<Integer> {
    static final int EXIT_LOST = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", converter = Converters.Address.class,
            description = "The service, e.g. 10.77.0.2:7000 (guest/service.c listens on UDP port 7000).")
    HostPort target;

    @Option(names = "--duration", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            defaultValue = "20s", description = "How long the load runs (default: ${DEFAULT-VALUE}).")
    long durationNs;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "8",
            description = "Requests kept in flight, each on its own key (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "256",
            description = "Use keys 0 to N-1; guest/service.c has 4096 (default: ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--retry-after", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            defaultValue = "250ms", description = "Resend a request unanswered this long (default: ${DEFAULT-VALUE}).")
    long retryAfterNs;

    @Option(names = "--sweep-timeout", paramLabel = "DURATION", converter = Converters.DurationNs.class,
            defaultValue = "30s", description = "After the load, how long to keep trying to read back every key"
                    + " written (default: ${DEFAULT-VALUE}).")
    long sweepTimeoutNs;

    @Option(names = "--acked-out", paramLabel = "FILE",
            description = "Write the last acknowledged value of each key here, one 'key value' line each, for"
                    + " 'tools guest-log --acked'.")
    Path ackedOut;

    @Option(names = "--json", description = "Print one JSON object instead of the readable summary.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        validate();
        InetSocketAddress service = new InetSocketAddress(target.host(), target.port());
        if (service.isUnresolved()) {
            throw new IOException("cannot resolve " + target.host());
        }
        KvClient.Result result;
        SortedMap<Integer, Long> acked;
        KvClientReport.WallClock wall = KvClientReport.WallClock.now();
        try (KvClient client = new KvClient(service, concurrency, keys, ReplyObserver.NONE, NanoClock.SYSTEM,
                retryAfterNs)) {
            result = client.run(durationNs);
            // With no answer at all there is nothing to read back; waiting out the sweep would only delay the error.
            if (result.answered() > 0) {
                result = client.verify(sweepTimeoutNs);
            }
            acked = client.ackedValues();
        }
        long endEpochMs = System.currentTimeMillis();
        if (ackedOut != null) {
            Daemons.writeAtomically(ackedOut, AckedValues.format(acked));
        }
        ObjectNode report = Daemons.JSON.createObjectNode();
        report.put("target", target.toString());
        report.put("duration_ms", TimeUnit.NANOSECONDS.toMillis(durationNs));
        report.put("concurrency", concurrency);
        report.put("keys", keys);
        report.put("retry_after_ms", TimeUnit.NANOSECONDS.toMillis(retryAfterNs));
        report.put("started_ms", wall.anchorEpochMs());
        report.put("ended_ms", endEpochMs);
        KvClientReport.addResult(report, result, wall);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? report.toPrettyString() + "\n" : KvClientReport.readable(report));
        out.flush();
        return exitStatus(result);
    }

    private void validate() throws IOException {
        if (target.port() == 0) {
            throw new ParameterException(spec.commandLine(), "--target " + target + ": write the service's port, e.g. "
                    + target.withPort(7000));
        }
        if (keys < 1 || concurrency < 1 || concurrency > keys) {
            throw new ParameterException(spec.commandLine(), "--concurrency " + concurrency + " and --keys " + keys
                    + ": need 1 <= concurrency <= keys (each request in flight has a key of its own)");
        }
        if (durationNs <= 0 || retryAfterNs <= 0 || sweepTimeoutNs <= 0) {
            throw new ParameterException(spec.commandLine(),
                    "--duration, --retry-after and --sweep-timeout must be above zero");
        }
        // Found out now, not after the whole run.
        if (ackedOut != null) {
            Path dir = ackedOut.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
                throw new IOException("--acked-out " + ackedOut + ": cannot write in " + dir);
            }
        }
    }

    /** Prints why on stderr when the status is not 0. */
    private int exitStatus(KvClient.Result r) {
        PrintWriter err = spec.commandLine().getErr();
        String name = spec.qualifiedName();
        int status = 0;
        if (r.lostAckedWrites() > 0) {
            err.println(name + ": " + r.lostAckedWrites() + " acknowledged writes LOST; first: " + r.lostExamples().getFirst());
            status = EXIT_LOST;
        } else if (r.answered() == 0) {
            err.println(name + ": no answer from " + target + " within " + durationNs / 1e9 + " s (" + r.requests()
                    + " requests, " + r.retries() + " resent" + (r.networkErrors() > 0 ? ", " + r.networkErrors()
                    + " refused by the network (port or host unreachable)" : "") + "); is the service up and reachable?");
            status = 1;
        } else if (r.keysUnverified() > 0) {
            err.println(name + ": " + r.keysUnverified() + " of " + r.keysWritten() + " keys written were not read back"
                    + " within --sweep-timeout " + sweepTimeoutNs / 1e9 + " s: the service stopped answering");
            status = 1;
        } else if (r.errors() > 0) {
            err.println(name + ": the service refused " + r.errors() + " requests as BAD_REQUEST; --keys " + keys
                    + " may exceed its table");
            status = 1;
        }
        err.flush();
        return status;
    }
}
