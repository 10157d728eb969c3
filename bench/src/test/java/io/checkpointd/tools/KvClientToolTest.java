package io.checkpointd.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.checkpointd.testing.KvResponder;
import io.checkpointd.testing.KvResponder.Fault;
import io.checkpointd.testing.ToolRun;
import io.checkpointd.tools.guest.AckedValues;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tools kv-client} against a loopback stand-in for the guest's service, with one fault injected. */
class KvClientToolTest {
    /** Well inside any load below: even a slow machine serves thousands of requests a second on loopback. */
    private static final long FAULT_AFTER_REQUESTS = 300;

    @TempDir
    Path dir;

    private KvResponder service;

    private static ToolRun run(String... args) {
        return ToolRun.of(ToolsMain.commandLine(), args);
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    private ToolRun kvClient(Fault fault, String... extra) throws Exception {
        service = KvResponder.start(fault);
        List<String> args = new ArrayList<>(List.of("tools", "kv-client", "--json", "--target", service.address()));
        args.addAll(List.of(extra));
        return run(args.toArray(String[]::new));
    }

    private static JsonNode json(ToolRun r) throws Exception {
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void aHealthyServiceLosesNothingAndEveryKeyIsReadBack() throws Exception {
        Path acked = dir.resolve("acked.txt");
        ToolRun r = kvClient(Fault.NONE, "--duration", "500ms", "--keys", "64", "--acked-out", acked.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode j = json(r);
        assertThat(j.path("answered").asLong()).isPositive().isEqualTo(j.path("requests").asLong());
        assertThat(j.path("acked_writes").asLong()).isPositive();
        assertThat(j.path("lost_acked_writes").asLong()).isZero();
        assertThat(j.path("keys_written").asLong()).isEqualTo(64);
        assertThat(j.path("keys_verified").asLong()).isEqualTo(64);
        assertThat(j.path("keys_unverified").asLong()).isZero();
        assertThat(j.path("latency_ms").path("p99").asDouble()).isPositive();
        assertThat(j.path("gap_end_ms").asLong()).isGreaterThanOrEqualTo(j.path("gap_start_ms").asLong());
        SortedMap<Integer, Long> values = AckedValues.read(acked);
        assertThat(values).hasSize(64);
        // Each key counts 1, 2, 3, ...: its last acknowledged value is how many of its writes were acknowledged.
        assertThat(values.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(j.path("acked_writes").asLong());
    }

    @Test
    void theLongestSilenceIsReportedWithWallClockEnds() throws Exception {
        ToolRun r = kvClient(new Fault(FAULT_AFTER_REQUESTS, 600, false), "--duration", "1200ms", "--retry-after", "50ms");
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode j = json(r);
        assertThat(j.path("retries").asLong()).isPositive();
        assertThat(j.path("longest_gap_ms").asDouble()).isBetween(590.0, 900.0);
        // The gap starts when the last reply before the silence arrived, and ends with the first retry answered.
        assertThat(j.path("gap_start_ms").asLong()).isBetween(service.silentFromMs() - 5, service.silentFromMs() + 100);
        assertThat(j.path("gap_end_ms").asLong()).isBetween(service.answeringFromMs() - 5, service.answeringFromMs() + 200);
        assertThat(j.path("gap_end_ms").asLong() - j.path("gap_start_ms").asLong())
                .isCloseTo(Math.round(j.path("longest_gap_ms").asDouble()), Offset.offset(2L));
        assertThat(j.path("lost_acked_writes").asLong()).isZero();
    }

    @Test
    void aServiceRestartedWithoutItsStateLosesAcknowledgedWritesAndExitsThree() throws Exception {
        // Back only after the load: the read-back finds every key not rewritten meanwhile at 0.
        ToolRun r = kvClient(new Fault(FAULT_AFTER_REQUESTS, 700, true), "--duration", "500ms", "--keys", "64");
        assertThat(r.status()).as(r.err()).isEqualTo(KvClientCommand.EXIT_LOST);
        JsonNode j = json(r);
        assertThat(j.path("lost_acked_writes").asLong()).as("most keys read back at 0").isGreaterThan(24);
        assertThat(j.path("lost_examples").get(0).asText()).matches("key \\d+: acknowledged \\d+, read back 0");
        assertThat(r.err()).contains("checkpointd tools kv-client: ").contains("acknowledged writes LOST");
    }

    @Test
    void noAnswerAtAllIsAnErrorThatSaysSo() throws Exception {
        ToolRun r = kvClient(new Fault(0, Fault.FOREVER, false), "--duration", "300ms", "--retry-after", "100ms");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("checkpointd tools kv-client: no answer from " + service.address() + " within 0.3 s");
        JsonNode j = json(r);
        assertThat(j.path("answered").asLong()).isZero();
        assertThat(j.path("retries").asLong()).isPositive();
        assertThat(j.path("gap_end_ms").asLong()).isEqualTo(-1);
    }

    @Test
    void keysNotReadBackBeforeTheSweepTimesOutAreAnError() throws Exception {
        ToolRun r = kvClient(new Fault(FAULT_AFTER_REQUESTS, Fault.FOREVER, false), "--duration", "400ms",
                "--sweep-timeout", "300ms");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("keys written were not read back within --sweep-timeout");
        JsonNode j = json(r);
        assertThat(j.path("keys_unverified").asLong()).isPositive();
        assertThat(j.path("gap_end_ms").asLong()).as("the silence never ended").isEqualTo(-1);
        assertThat(j.path("longest_gap_ms").asDouble()).isGreaterThan(300.0);
    }

    @Test
    void theReadableSummaryNamesTheGapAndTheLosses() throws Exception {
        service = KvResponder.start(Fault.NONE);
        ToolRun r = run("tools", "kv-client", "--target", service.address(), "--duration", "200ms");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("checkpointd tools kv-client: " + service.address())
                .contains("0 LOST").contains("longest gap");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsSent() throws Exception {
        assertThat(run("tools", "kv-client").err()).contains("Missing required option: '--target=HOST:PORT'");
        ToolRun tooMany = kvClient(Fault.NONE, "--concurrency", "9", "--keys", "8");
        assertThat(tooMany.status()).isEqualTo(2);
        assertThat(tooMany.err()).contains("need 1 <= concurrency <= keys");
        ToolRun noDir = run("tools", "kv-client", "--target", service.address(), "--acked-out",
                dir.resolve("missing/acked.txt").toString());
        assertThat(noDir.status()).isEqualTo(1);
        assertThat(noDir.err()).startsWith("checkpointd tools kv-client: --acked-out");
        assertThat(dir.resolve("missing")).doesNotExist();
    }
}
