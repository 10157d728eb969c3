package io.checkpointd.libvirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.util.NanoClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The daemon's own QMP monitor on a QEMU process (a second {@code -qmp} socket besides libvirt's), so a
 * pause, a resume or a device-state migration costs one local round trip instead of one through
 * libvirtd's RPC. libvirt keeps its own monitor and still manages the domain; it sees the STOP, RESUME and
 * MIGRATION events this monitor causes.
 *
 * <p>Protocol (QMP, one JSON object per line): QEMU greets with {@code {"QMP": ...}}; the client sends
 * {@code qmp_capabilities}; then every command gets exactly one reply, {@code {"return": ...}} or
 * {@code {"error": {"class", "desc"}}}, in order. Asynchronous events ({@code {"event": NAME, "data": ...}})
 * may come between a command and its reply; they are kept (the newest {@link #MAX_KEPT_EVENTS}) until a
 * caller waits for one with {@link #awaitEvent}.
 *
 * <p>One command is in flight at a time: {@link #send} may be followed by work of the caller's own before
 * {@link #awaitReply}, which is how a migration is started without waiting for QEMU's answer.
 *
 * <p>Not thread-safe: used by the epoch loop thread only (and at start, before that thread runs).
 */
final class QmpMonitor implements AutoCloseable {
    /** A longer line is not QMP (the largest replies we ask for are a few KB). */
    static final int MAX_LINE_BYTES = 1 << 20;
    /** Events nobody waits for (STOP, RESUME, MIGRATION_PASS) are dropped beyond this many. */
    static final int MAX_KEPT_EVENTS = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String domainName;
    private final Path path;
    private final SocketChannel channel;
    private final Selector selector;
    private final NanoClock clock;
    private final long replyTimeoutNs;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 << 10).flip();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
    private final ArrayDeque<JsonNode> events = new ArrayDeque<>();
    private String inFlight; // the command sent and not yet answered, or null

    private QmpMonitor(String domainName, Path path, SocketChannel channel, Selector selector, NanoClock clock,
                       long replyTimeoutNs) {
        this.domainName = domainName;
        this.path = path;
        this.channel = channel;
        this.selector = selector;
        this.clock = clock;
        this.replyTimeoutNs = replyTimeoutNs;
    }

    /**
     * Connects, reads QEMU's greeting and leaves capabilities negotiation mode.
     *
     * @param replyTimeoutNs how long any one reply (the greeting included) may take
     */
    static QmpMonitor connect(String domainName, Path path, NanoClock clock, long replyTimeoutNs) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try {
            channel.connect(UnixDomainSocketAddress.of(path));
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            QmpMonitor monitor = new QmpMonitor(domainName, path, channel, selector, clock, replyTimeoutNs);
            monitor.handshake();
            return monitor;
        } catch (IOException | RuntimeException e) {
            if (selector != null) {
                selector.close();
            }
            channel.close();
            throw new IOException(domainName + ": cannot open QMP monitor " + path + ": " + e.getMessage(), e);
        }
    }

    static ObjectNode args() {
        return JSON.createObjectNode();
    }

    private void handshake() throws IOException {
        long deadlineNs = clock.nanoTime() + replyTimeoutNs;
        JsonNode greeting = readMessage("the greeting", deadlineNs);
        if (!greeting.has("QMP")) {
            throw new IOException("expected QMP's greeting, got " + abbreviate(greeting.toString()));
        }
        execute("qmp_capabilities", null);
    }

    /** Runs {@code command} and returns its {@code return} value; QEMU's error becomes the exception's message. */
    JsonNode execute(String command, ObjectNode arguments) {
        send(command, arguments);
        return awaitReply();
    }

    /** Writes {@code command} without waiting for its reply; {@link #awaitReply} reads it. */
    void send(String command, ObjectNode arguments) {
        if (inFlight != null) {
            throw new IllegalStateException(domainName + ": QMP " + command + " sent while " + inFlight
                    + " is still unanswered");
        }
        ObjectNode request = JSON.createObjectNode().put("execute", command);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        ByteBuffer bytes = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            // A command is far smaller than the socket buffer: a non-blocking write takes it whole at once.
            while (bytes.hasRemaining()) {
                if (channel.write(bytes) == 0) {
                    throw new IOException("socket buffer full");
                }
            }
        } catch (IOException e) {
            throw failure(command, "could not be sent: " + e.getMessage(), e);
        }
        inFlight = command;
    }

    /** The reply to the command {@link #send} wrote; events read meanwhile are kept. */
    JsonNode awaitReply() {
        String command = inFlight;
        if (command == null) {
            throw new IllegalStateException(domainName + ": QMP reply awaited but no command was sent");
        }
        long deadlineNs = clock.nanoTime() + replyTimeoutNs;
        JsonNode reply;
        try {
            while (true) {
                JsonNode message = readMessage("the reply to " + command, deadlineNs);
                if (message.has("event")) {
                    keep(message);
                } else {
                    reply = message;
                    break;
                }
            }
        } catch (IOException e) {
            throw failure(command, "failed: " + e.getMessage(), e);
        } finally {
            inFlight = null;
        }
        if (reply.has("error")) {
            JsonNode error = reply.path("error");
            throw failure(command, "refused: " + error.path("desc").asText(error.toString()), null);
        }
        if (!reply.has("return")) {
            throw failure(command, "answered neither return nor error: " + abbreviate(reply.toString()), null);
        }
        return reply.path("return");
    }

    /**
     * The first event named {@code name} whose {@code data} matches, kept or still to come; events that do
     * not match are kept for later callers. Only between commands (no reply outstanding).
     */
    JsonNode awaitEvent(String name, Predicate<JsonNode> dataMatches, long timeoutNs) {
        if (inFlight != null) {
            throw new IllegalStateException(domainName + ": waiting for QMP event " + name + " while " + inFlight
                    + " is still unanswered");
        }
        for (Iterator<JsonNode> it = events.iterator(); it.hasNext(); ) {
            JsonNode event = it.next();
            if (matches(event, name, dataMatches)) {
                it.remove();
                return event;
            }
        }
        long deadlineNs = clock.nanoTime() + timeoutNs;
        try {
            while (true) {
                JsonNode message = readMessage("event " + name, deadlineNs);
                if (matches(message, name, dataMatches)) {
                    return message;
                }
                if (message.has("event")) {
                    keep(message);
                } else {
                    throw new IOException("unexpected message with no command sent: " + abbreviate(message.toString()));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(domainName + ": QMP monitor " + path + ": " + e.getMessage(), e);
        }
    }

    /** Forgets the events kept so far: what happened before now is no answer to what is asked next. */
    void discardEvents() {
        events.clear();
    }

    int keptEvents() {
        return events.size();
    }

    private static boolean matches(JsonNode message, String name, Predicate<JsonNode> dataMatches) {
        return name.equals(message.path("event").asText(null)) && dataMatches.test(message.path("data"));
    }

    private void keep(JsonNode event) {
        if (events.size() == MAX_KEPT_EVENTS) {
            events.removeFirst();
        }
        events.addLast(event);
    }

    /** Reads one line and parses it; blocks in the selector (no spinning) until {@code deadlineNs}. */
    private JsonNode readMessage(String awaited, long deadlineNs) throws IOException {
        byte[] bytes = readLine(awaited, deadlineNs);
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IOException("QEMU sent a line that is not a JSON object while waiting for " + awaited
                        + ": " + abbreviate(new String(bytes, StandardCharsets.UTF_8)));
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IOException("QEMU sent unreadable JSON while waiting for " + awaited + ": "
                    + abbreviate(new String(bytes, StandardCharsets.UTF_8)), e);
        }
    }

    private byte[] readLine(String awaited, long deadlineNs) throws IOException {
        while (true) {
            while (readBuffer.hasRemaining()) {
                byte b = readBuffer.get();
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    line.reset();
                    return bytes;
                }
                if (line.size() == MAX_LINE_BYTES) {
                    // The stream cannot be resynchronised mid-line: the monitor is unusable from here.
                    line.reset();
                    close();
                    throw new IOException("a line from QEMU exceeds " + (MAX_LINE_BYTES >> 20)
                            + " MiB while waiting for " + awaited + "; monitor closed");
                }
                line.write(b);
            }
            readBuffer.clear();
            int n;
            try {
                n = channel.read(readBuffer);
            } finally {
                readBuffer.flip();
            }
            if (n < 0) {
                throw new IOException("QEMU closed the monitor while we waited for " + awaited
                        + (line.size() > 0 ? " (" + line.size() + " bytes of an unfinished line)" : ""));
            }
            if (n == 0) {
                long leftNs = deadlineNs - clock.nanoTime();
                if (leftNs < 0) {
                    throw new IOException("no answer from QEMU within the time allowed while waiting for " + awaited);
                }
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(leftNs)));
                selector.selectedKeys().clear();
            }
        }
    }

    private IllegalStateException failure(String command, String what, Exception cause) {
        return new IllegalStateException(domainName + ": QMP " + command + " " + what + " (monitor " + path + ")",
                cause);
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        try {
            selector.close();
            channel.close();
        } catch (IOException e) {
            // Closing: QEMU sees the monitor go either way.
        }
    }
}
