package io.checkpointd.libvirt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
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
 * <p>The epoch's commands run inside the guest's pause, about ten lines each epoch, too rarely for the JIT
 * to warm Jackson's data binding (a cold {@code readTree} costs ~0.1 ms): commands are encoded once
 * ({@link Command}) and each line is classified with Jackson's streaming parser; only a reply with content
 * or an error is bound to a tree.
 *
 * <p>Not thread-safe: used by the epoch loop thread only (and at start, before that thread runs).
 */
final class QmpMonitor implements AutoCloseable {
    /** A longer line is not QMP (the largest replies we ask for are a few KB). */
    static final int MAX_LINE_BYTES = 1 << 20;
    /** Events nobody waits for (STOP, RESUME, MIGRATION_PASS) are dropped beyond this many. */
    static final int MAX_KEPT_EVENTS = 64;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();

    /** A command encoded once, for those sent every epoch. */
    record Command(String name, byte[] line) {
        static Command of(String name, ObjectNode arguments) {
            ObjectNode request = JSON.createObjectNode().put("execute", name);
            if (arguments != null) {
                request.set("arguments", arguments);
            }
            return new Command(name, (request + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** An asynchronous event as kept: its name, {@code data.status} when it has one (else null), the line. */
    record Event(String name, String status, String line) {
    }

    private enum Kind { GREETING, EVENT, EMPTY_RETURN, RETURN, ERROR }

    /** One line from QEMU, classified. */
    private record Message(Kind kind, String eventName, String status, byte[] line) {
    }

    private final String domainName;
    private final Path path;
    private final SocketChannel channel;
    private final Selector selector;
    private final NanoClock clock;
    private final long replyTimeoutNs;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 << 10).flip();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
    private final ArrayDeque<Event> events = new ArrayDeque<>();
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
        Message greeting = readMessage("the greeting", deadlineNs);
        if (greeting.kind() != Kind.GREETING) {
            throw new IOException("expected QMP's greeting, got " + text(greeting.line()));
        }
        execute("qmp_capabilities", null);
    }

    /** Runs {@code command} and returns its {@code return} value; QEMU's error becomes the exception's message. */
    JsonNode execute(String command, ObjectNode arguments) {
        send(command, arguments);
        return awaitReply();
    }

    /** Runs a command encoded beforehand; see {@link #execute(String, ObjectNode)}. */
    JsonNode execute(Command command) {
        send(command);
        return awaitReply();
    }

    /** Writes {@code command} without waiting for its reply; {@link #awaitReply} reads it. */
    void send(String command, ObjectNode arguments) {
        send(Command.of(command, arguments));
    }

    /** Writes a command encoded beforehand without waiting for its reply. */
    void send(Command encoded) {
        String command = encoded.name();
        if (inFlight != null) {
            throw new IllegalStateException(domainName + ": QMP " + command + " sent while " + inFlight
                    + " is still unanswered");
        }
        ByteBuffer bytes = ByteBuffer.wrap(encoded.line());
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
        Message reply;
        JsonNode tree = null;
        try {
            while (true) {
                Message message = readMessage("the reply to " + command, deadlineNs);
                if (message.kind() == Kind.EVENT) {
                    keep(new Event(message.eventName(), message.status(), text(message.line())));
                } else {
                    reply = message;
                    break;
                }
            }
            if (reply.kind() == Kind.RETURN || reply.kind() == Kind.ERROR) {
                tree = JSON.readTree(reply.line());
            }
        } catch (IOException e) {
            throw failure(command, "failed: " + e.getMessage(), e);
        } finally {
            inFlight = null;
        }
        return switch (reply.kind()) {
            case EMPTY_RETURN -> JSON.createObjectNode();
            case RETURN -> tree.path("return");
            case ERROR -> {
                JsonNode error = tree.path("error");
                throw failure(command, "refused: " + error.path("desc").asText(error.toString()), null);
            }
            default -> throw failure(command, "answered neither return nor error: " + text(reply.line()), null);
        };
    }

    /**
     * The first event named {@code name} whose {@code data.status} matches (null when it has none), kept or
     * still to come; events that do not match are kept for later callers. Only between commands (no reply
     * outstanding).
     */
    Event awaitEvent(String name, Predicate<String> statusMatches, long timeoutNs) {
        if (inFlight != null) {
            throw new IllegalStateException(domainName + ": waiting for QMP event " + name + " while " + inFlight
                    + " is still unanswered");
        }
        for (Iterator<Event> it = events.iterator(); it.hasNext(); ) {
            Event event = it.next();
            if (event.name().equals(name) && statusMatches.test(event.status())) {
                it.remove();
                return event;
            }
        }
        long deadlineNs = clock.nanoTime() + timeoutNs;
        try {
            while (true) {
                Message message = readMessage("event " + name, deadlineNs);
                if (message.kind() != Kind.EVENT) {
                    throw new IOException("unexpected message with no command sent: " + text(message.line()));
                }
                Event event = new Event(message.eventName(), message.status(), text(message.line()));
                if (event.name().equals(name) && statusMatches.test(event.status())) {
                    return event;
                }
                keep(event);
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

    private void keep(Event event) {
        if (events.size() == MAX_KEPT_EVENTS) {
            events.removeFirst();
        }
        events.addLast(event);
    }

    /** Reads one line and classifies it; blocks in the selector (no spinning) until {@code deadlineNs}. */
    private Message readMessage(String awaited, long deadlineNs) throws IOException {
        byte[] bytes = readLine(awaited, deadlineNs);
        try {
            return classify(bytes);
        } catch (JsonProcessingException e) {
            throw new IOException("QEMU sent unreadable JSON while waiting for " + awaited + ": " + text(bytes), e);
        }
    }

    /**
     * Reads the top-level keys of one line with the streaming parser (the whole line, so bad JSON is
     * caught): {@code QMP}, {@code event} (with {@code data.status}), {@code return} or {@code error}.
     */
    private static Message classify(byte[] line) throws IOException {
        try (JsonParser parser = FACTORY.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("QEMU sent a line that is not a JSON object: " + text(line));
            }
            Kind kind = null;
            String eventName = null;
            String status = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (key) {
                    case "QMP" -> {
                        kind = Kind.GREETING;
                        parser.skipChildren();
                    }
                    case "event" -> {
                        kind = Kind.EVENT;
                        eventName = parser.getValueAsString();
                    }
                    case "data" -> status = value == JsonToken.START_OBJECT ? statusOf(parser) : status;
                    case "return" -> {
                        boolean empty = value == JsonToken.START_OBJECT && parser.nextToken() == JsonToken.END_OBJECT;
                        kind = empty ? Kind.EMPTY_RETURN : Kind.RETURN;
                        if (!empty) {
                            return new Message(kind, null, null, line); // bound to a tree by the caller
                        }
                    }
                    case "error" -> {
                        return new Message(Kind.ERROR, null, null, line);
                    }
                    default -> parser.skipChildren();
                }
            }
            if (kind == null || (kind == Kind.EVENT && eventName == null)) {
                throw new IOException("QEMU sent a line that is no greeting, event or reply: " + text(line));
            }
            return new Message(kind, eventName, status, line);
        }
    }

    /** {@code data.status} from inside {@code data}'s object, leaving the parser after it. */
    private static String statusOf(JsonParser parser) throws IOException {
        String status = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            parser.nextToken();
            if (key.equals("status")) {
                status = parser.getValueAsString();
            } else {
                parser.skipChildren();
            }
        }
        return status;
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

    private static String text(byte[] line) {
        String s = new String(line, StandardCharsets.UTF_8);
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
