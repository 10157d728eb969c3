package io.checkpointd.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.cli.Daemons;
import io.checkpointd.tools.guest.AckedValues;
import io.checkpointd.tools.guest.GuestLog;
import io.checkpointd.tools.guest.GuestLogCheck;
import io.checkpointd.tools.guest.Violations;
import io.checkpointd.util.MappedFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "guest-log", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check the log a guest's service left on its disk, in a raw image of the disk.",
                "guest/service.c writes a 64-byte record per SET, sequence s at offset",
                "(s mod records) * 64. The log must run from sequence 0 with no hole, duplicate,",
                "bad magic or non-zero padding, and nothing may follow its end. With --acked,",
                "every acknowledged write must have a record and no key's value may go back: a",
                "key may end newer than its last acknowledged value, never older."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the log is whole (and holds every acknowledged write)",
                "1:error: the image or --acked file cannot be read, or the log wrapped and --acked was given",
                "2:invalid command line",
                "3:violations found (listed, the first few with their offsets)"})
final class GuestLogCommand implements Callable<Integer> {
    static final int EXIT_VIOLATIONS = 3;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "A raw image of the guest's disk, or any file holding the log.")
    Path image;

    @Option(names = "--acked", paramLabel = "FILE",
            description = "Last acknowledged value per key ('key value' lines, as kv-client --acked-out writes them,"
                    + " or a JSON object).")
    Path acked;

    @Option(names = "--json", description = "Print one JSON object instead of the readable summary.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SortedMap<Integer, Long> ackedValues = acked == null ? null : AckedValues.read(existingFile(acked));
        GuestLogCheck.Report report;
        try (Arena arena = Arena.ofConfined()) {
            report = GuestLogCheck.check(new GuestLog(MappedFiles.mapReadOnly(existingFile(image), arena)), ackedValues);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(image + ": " + e.getMessage(), e);
        }
        ObjectNode o = json(report);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? o.toPrettyString() + "\n" : readable(o));
        out.flush();
        return report.violations().total() > 0 ? EXIT_VIOLATIONS : 0;
    }

    private static Path existingFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(file + ": no such file");
        }
        if (Files.isDirectory(file) || !Files.isReadable(file)) {
            throw new IOException(file + ": not a readable file");
        }
        return file;
    }

    private ObjectNode json(GuestLogCheck.Report r) {
        ObjectNode o = Daemons.JSON.createObjectNode();
        o.put("image", image.toString());
        o.put("slots", r.slots());
        o.put("records", r.records());
        o.put("highest_sequence", r.highestSequence());
        o.put("keys", r.keys());
        o.put("wrapped", r.wrapped());
        o.put("acked_keys", r.ackedKeys());
        o.put("violations", r.violations().total());
        ObjectNode byKind = o.putObject("violations_by_kind");
        for (Map.Entry<Violations.Kind, Long> e : r.violations().byKind().entrySet()) {
            byKind.put(e.getKey().label(), e.getValue());
        }
        ArrayNode examples = o.putArray("violation_examples");
        for (Violations.Violation v : r.violations().examples()) {
            ObjectNode example = examples.addObject();
            example.put("kind", v.kind().label());
            example.put("offset", v.offsetBytes());
            example.put("message", v.message());
        }
        return o;
    }

    private String readable(JsonNode o) {
        StringBuilder s = new StringBuilder();
        s.append("checkpointd tools guest-log: ").append(o.path("image").asText()).append("\n\n");
        long records = o.path("records").asLong();
        s.append(String.format("  log           %d records%s, %d keys; room for %d%s%n", records,
                records == 0 ? "" : ", sequences " + (o.path("highest_sequence").asLong() - records + 1) + ".."
                        + o.path("highest_sequence").asLong(),
                o.path("keys").asLong(), o.path("slots").asLong(), o.path("wrapped").asBoolean() ? " (wrapped round)" : ""));
        if (acked != null) {
            s.append(String.format("  acknowledged  %d keys checked against %s%n", o.path("acked_keys").asLong(), acked));
        }
        long violations = o.path("violations").asLong();
        s.append(String.format("  violations    %d%s%n", violations, violations == 0 ? ""
                : " (" + o.path("violations_by_kind").properties().stream()
                        .map(e -> e.getValue().asLong() + " " + e.getKey()).reduce((a, b) -> a + ", " + b).orElse("") + ")"));
        for (JsonNode v : o.path("violation_examples")) {
            s.append(String.format("    %-16s %s%n", v.path("kind").asText(), v.path("message").asText()));
        }
        if (o.path("violation_examples").size() < violations) {
            s.append("    ... (first ").append(o.path("violation_examples").size()).append(" shown)\n");
        }
        return s.toString();
    }
}
