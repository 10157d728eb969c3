package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.util.NanoClock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's own QMP monitor against a fake QEMU: a server thread on a unix socket playing a script. */
class QmpMonitorTest {
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
            + "\"major\": 7}}, \"capabilities\": [\"oob\"]}}";

    @TempDir
    Path dir;

    private final List<String> received = new ArrayList<>();
    private ServerSocketChannel server;
    private CompletableFuture<Void> fake;

    /** What the fake QEMU does on its one connection. */
    private interface Script {
        void play(BufferedReader in, OutputStream out) throws Exception;
    }

    /** Starts a fake QEMU that greets, answers qmp_capabilities and then plays {@code script}. */
    private Path fakeQemu(Script script) throws IOException {
        Path path = dir.resolve("qmp.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        fake = CompletableFuture.runAsync(() -> {
            try (SocketChannel c = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                        StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(c);
                send(out, GREETING);
                expect(in, "{\"execute\":\"qmp_capabilities\"}");
                send(out, "{\"return\": {}}");
                script.play(in, out);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, runnable -> Thread.ofPlatform().name("fake-qemu").start(runnable));
        return path;
    }

    private void expect(BufferedReader in, String command) throws IOException {
        String line = in.readLine();
        synchronized (received) {
            received.add(line);
        }
        assertThat(line).isEqualTo(command);
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private QmpMonitor connect(Path path) throws IOException {
        return QmpMonitor.connect("web1", path, NanoClock.SYSTEM, TIMEOUT_NS);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        if (fake != null) {
            fake.get(10, TimeUnit.SECONDS); // the script's own assertions
        }
    }

    @Test
    void greetsNegotiatesAndRunsACommand() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"query-status\"}");
            send(out, "{\"return\": {\"status\": \"paused\", \"running\": false}}");
            expect(in, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:/x.sock\"}}");
            send(out, "{\"return\": {}}");
        });
        try (QmpMonitor monitor = connect(path)) {
            assertThat(monitor.execute("query-status", null).path("status").asText()).isEqualTo("paused");
            assertThat(monitor.execute("migrate", QmpMonitor.args().put("uri", "unix:/x.sock")).isEmpty()).isTrue();
        }
    }

    @Test
    void keepsEventsThatComeBeforeAReplyForWhoeverWaitsForThem() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:/x.sock\"}}");
            send(out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"MIGRATION\", "
                    + "\"data\": {\"status\": \"setup\"}}");
            send(out, "{\"return\": {}}");
            send(out, "{\"event\": \"MIGRATION_PASS\", \"data\": {\"pass\": 1}}");
            send(out, "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}");
            send(out, "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"completed\"}}");
        });
        try (QmpMonitor monitor = connect(path)) {
            monitor.send("migrate", QmpMonitor.args().put("uri", "unix:/x.sock"));
            assertThat(monitor.awaitReply().isEmpty()).isTrue();
            assertThat(monitor.keptEvents()).as("the setup event, read before the reply").isEqualTo(1);
            QmpMonitor.Event done = monitor.awaitEvent("MIGRATION",
                    status -> !status.equals("setup") && !status.equals("active"), TIMEOUT_NS);
            assertThat(done.status()).isEqualTo("completed");
            assertThat(done.line()).contains("\"event\": \"MIGRATION\"");
            assertThat(monitor.awaitEvent("MIGRATION", status -> true, TIMEOUT_NS).status())
                    .as("kept, oldest first").isEqualTo("setup");
            QmpMonitor.Event pass = monitor.awaitEvent("MIGRATION_PASS", status -> true, TIMEOUT_NS);
            assertThat(pass.status()).as("an event without data.status").isNull();
            monitor.discardEvents();
            assertThat(monitor.keptEvents()).isZero();
        }
    }

    @Test
    void aReplyWithContentIsBoundAndBadJsonIsNamed() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"query-migrate\"}");
            send(out, "{\"return\": {\"status\": \"failed\", \"error-desc\": \"Unable to write\"}}");
            expect(in, "{\"execute\":\"stop\"}");
            send(out, "{\"return\": {}, \"id\": [1, {\"x\": 2}]}");
            expect(in, "{\"execute\":\"cont\"}");
            send(out, "{\"return\": {}, \"oops\"}");
        });
        try (QmpMonitor monitor = connect(path)) {
            assertThat(monitor.execute("query-migrate", null).path("error-desc").asText()).isEqualTo("Unable to write");
            assertThat(monitor.execute(QmpMonitor.Command.of("stop", null)).isEmpty()).isTrue();
            assertThatThrownBy(() -> monitor.execute("cont", null))
                    .hasMessageContaining("web1: QMP cont failed: QEMU sent unreadable JSON while waiting for the reply "
                            + "to cont: {\"return\": {}, \"oops\"}");
        }
    }

    @Test
    void anErrorReplyIsAnExceptionWithQemusDescriptionAndTheMonitorGoesOn() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"cont\"}");
            send(out, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Resetting the Virtual Machine is "
                    + "required\"}}");
            expect(in, "{\"execute\":\"stop\"}");
            send(out, "{\"return\": {}}");
        });
        try (QmpMonitor monitor = connect(path)) {
            assertThatThrownBy(() -> monitor.execute("cont", null))
                    .hasMessageContaining("web1: QMP cont refused: Resetting the Virtual Machine is required")
                    .hasMessageContaining(path.toString());
            assertThat(monitor.execute("stop", null).isEmpty()).isTrue();
        }
    }

    @Test
    void aLineLongerThanOneMebibyteIsRefused() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"query-status\"}");
            byte[] huge = new byte[QmpMonitor.MAX_LINE_BYTES + 1];
            java.util.Arrays.fill(huge, (byte) 'x');
            try {
                out.write(huge);
                out.flush();
            } catch (IOException e) {
                // The monitor hangs up once it has seen too much: expected.
            }
        });
        try (QmpMonitor monitor = connect(path)) {
            assertThatThrownBy(() -> monitor.execute("query-status", null))
                    .hasMessageContaining("web1: QMP query-status")
                    .hasMessageContaining("exceeds 1 MiB");
        }
    }

    @Test
    void aQemuThatClosesMidReplyIsNamed() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"query-migrate\"}");
            out.write("{\"return\": {\"status\": \"compl".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
        try (QmpMonitor monitor = connect(path)) {
            assertThatThrownBy(() -> monitor.execute("query-migrate", null))
                    .hasMessageContaining("web1: QMP query-migrate failed: QEMU closed the monitor while we waited for the "
                            + "reply to query-migrate (28 bytes of an unfinished line)");
        }
    }

    @Test
    void aQemuThatNeverAnswersIsATimeoutNamingTheCommand() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"stop\"}");
            in.readLine(); // holds the connection open until the monitor closes it
        });
        try (QmpMonitor monitor = QmpMonitor.connect("web1", path, NanoClock.SYSTEM,
                TimeUnit.MILLISECONDS.toNanos(200))) {
            assertThatThrownBy(() -> monitor.execute("stop", null))
                    .hasMessageContaining("web1: QMP stop failed: no answer from QEMU within the time allowed while "
                            + "waiting for the reply to stop");
        }
    }

    @Test
    void oneCommandAtATime() throws Exception {
        Path path = fakeQemu((in, out) -> {
            expect(in, "{\"execute\":\"migrate\"}");
            send(out, "{\"return\": {}}");
        });
        try (QmpMonitor monitor = connect(path)) {
            monitor.send("migrate", null);
            assertThatThrownBy(() -> monitor.send("stop", null)).hasMessageContaining("while migrate is still unanswered");
            assertThatThrownBy(() -> monitor.awaitEvent("MIGRATION", d -> true, TIMEOUT_NS))
                    .hasMessageContaining("still unanswered");
            monitor.awaitReply();
        }
    }

    @Test
    void aServerThatIsNotQmpIsRefusedAtConnect() throws Exception {
        Path path = dir.resolve("qmp.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        fake = CompletableFuture.runAsync(() -> {
            try (SocketChannel c = server.accept()) {
                send(Channels.newOutputStream(c), "{\"hello\": 1}");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThatThrownBy(() -> connect(path)).isInstanceOf(IOException.class)
                .hasMessageContaining("web1: cannot open QMP monitor " + path)
                .hasMessageContaining("a line that is no greeting, event or reply: {\"hello\": 1}");
    }
}
