package io.checkpointd.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.checkpointd.testing.ToolRun;
import io.checkpointd.tools.guest.LogImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tools guest-log} on image files: its exit status and output, the contract a failover test relies on. */
class GuestLogToolTest {
    private static ToolRun run(String... args) {
        return ToolRun.of(ToolsMain.commandLine(), args);
    }

    @TempDir
    Path dir;

    private Path image(LogImage log) throws Exception {
        return log.writeTo(dir.resolve("disk.img"));
    }

    @Test
    void aWholeLogHoldingEveryAcknowledgedWriteExitsZero() throws Exception {
        Path image = image(new LogImage(1024).set(0, 1, 1).set(1, 2, 1).set(2, 1, 2));
        Path acked = Files.writeString(dir.resolve("acked.txt"), "1 2\n2 1\n");
        ToolRun r = run("tools", "guest-log", image.toString(), "--acked", acked.toString(), "--json");
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.path("records").asLong()).isEqualTo(3);
        assertThat(j.path("highest_sequence").asLong()).isEqualTo(2);
        assertThat(j.path("keys").asLong()).isEqualTo(2);
        assertThat(j.path("slots").asLong()).isEqualTo(1024);
        assertThat(j.path("acked_keys").asLong()).isEqualTo(2);
        assertThat(j.path("violations").asLong()).isZero();
        assertThat(j.path("violation_examples").isArray()).isTrue();
    }

    @Test
    void violationsExitThreeAndAreListedWithTheirOffsets() throws Exception {
        Path image = image(new LogImage(1024).set(0, 1, 1).set(1, 1, 2).set(3, 1, 3));
        ToolRun json = run("tools", "guest-log", image.toString(), "--json");
        assertThat(json.status()).isEqualTo(GuestLogCommand.EXIT_VIOLATIONS);
        JsonNode j = new ObjectMapper().readTree(json.out());
        assertThat(j.path("violations").asLong()).isEqualTo(2);
        assertThat(j.path("violations_by_kind").path("hole").asLong()).isEqualTo(1);
        assertThat(j.path("violations_by_kind").path("stray").asLong()).isEqualTo(1);
        assertThat(j.path("violation_examples").get(1).path("offset").asLong()).isEqualTo(192);
        assertThat(j.path("violation_examples").get(1).path("message").asText())
                .isEqualTo("record at offset 192 has sequence 3 after the end of the log at 2");

        ToolRun readable = run("tools", "guest-log", image.toString());
        assertThat(readable.status()).isEqualTo(GuestLogCommand.EXIT_VIOLATIONS);
        assertThat(readable.out()).contains("2 records, sequences 0..1").contains("violations    2 (1 hole, 1 stray)")
                .contains("record at offset 192 has sequence 3 after the end of the log at 2");
    }

    @Test
    void unreadableInputsAreErrorsNamingTheFile() throws Exception {
        ToolRun missing = run("tools", "guest-log", dir.resolve("nope.img").toString());
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("checkpointd tools guest-log: " + dir.resolve("nope.img") + ": no such file"
                + System.lineSeparator());
        Path image = image(new LogImage(16).set(0, 1, 1));
        Path badAcked = Files.writeString(dir.resolve("acked.txt"), "1\n");
        ToolRun bad = run("tools", "guest-log", image.toString(), "--acked", badAcked.toString());
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("acked.txt:1: '1' is not 'key value'");
        Path tiny = Files.write(dir.resolve("tiny.img"), new byte[10]);
        assertThat(run("tools", "guest-log", tiny.toString()).err()).contains("tiny.img: the image is 10 bytes");
    }
}
