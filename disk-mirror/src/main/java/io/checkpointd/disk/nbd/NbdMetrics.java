package io.checkpointd.disk.nbd;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of one {@link NbdServer} (Prometheus names), each with the server's tags:
 * <ul>
 *   <li>{@code checkpointd_disk_nbd_requests_total{command}}: read, write, flush, trim, write_zeroes, disc,
 *       other;</li>
 *   <li>{@code checkpointd_disk_nbd_errors_total{error}}: error replies, by NBD error (EINVAL, ENOSPC, EIO,
 *       EPERM, ENOTSUP);</li>
 *   <li>{@code checkpointd_disk_nbd_read_bytes_total}, {@code ..._written_bytes_total},
 *       {@code ..._zeroed_bytes_total} (trims and write-zeroes);</li>
 *   <li>{@code checkpointd_disk_nbd_syncs_total{reason}}: fsyncs of the image, for FLUSH or FUA;</li>
 *   <li>{@code checkpointd_disk_nbd_connections}: open connections (gauge);</li>
 *   <li>{@code checkpointd_disk_nbd_disconnects_total{reason}}: client (it asked or hung up), protocol (we
 *       closed on a malformed message), error (an I/O or internal error).</li>
 * </ul>
 * Thread-safe: every connection's event loop updates the same meters.
 */
final class NbdMetrics implements AutoCloseable {
    static final String REQUESTS = "checkpointd.disk.nbd.requests";
    static final String ERRORS = "checkpointd.disk.nbd.errors";
    static final String READ_BYTES = "checkpointd.disk.nbd.read.bytes";
    static final String WRITTEN_BYTES = "checkpointd.disk.nbd.written.bytes";
    static final String ZEROED_BYTES = "checkpointd.disk.nbd.zeroed.bytes";
    static final String SYNCS = "checkpointd.disk.nbd.syncs";
    static final String SYNCS_SKIPPED = "checkpointd.disk.nbd.syncs.skipped";
    static final String CONNECTIONS = "checkpointd.disk.nbd.connections";
    static final String DISCONNECTS = "checkpointd.disk.nbd.disconnects";

    enum Disconnect { CLIENT, PROTOCOL, ERROR }

    private static final Map<Integer, String> COMMANDS = Map.of(
            Nbd.CMD_READ, "read", Nbd.CMD_WRITE, "write", Nbd.CMD_DISC, "disc", Nbd.CMD_FLUSH, "flush",
            Nbd.CMD_TRIM, "trim", Nbd.CMD_WRITE_ZEROES, "write_zeroes");
    private static final Map<Integer, String> ERROR_NAMES = Map.of(
            Nbd.EPERM, "EPERM", Nbd.EIO, "EIO", Nbd.EINVAL, "EINVAL", Nbd.ENOSPC, "ENOSPC", Nbd.ENOTSUP, "ENOTSUP");

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<Integer, Counter> requests = new HashMap<>();
    private final Counter otherRequests;
    private final Map<Integer, Counter> errors = new HashMap<>();
    private final Counter readBytes;
    private final Counter writtenBytes;
    private final Counter zeroedBytes;
    private final Counter flushSyncs;
    private final Counter fuaSyncs;
    private final Counter skippedSyncs;
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<Disconnect, Counter> disconnects = new HashMap<>();

    NbdMetrics(MeterRegistry registry, Iterable<Tag> tags) {
        this.registry = registry;
        Tags base = Tags.of(tags);
        COMMANDS.forEach((code, name) -> requests.put(code, request(base, name)));
        otherRequests = request(base, "other");
        ERROR_NAMES.forEach((code, name) -> errors.put(code, add(Counter.builder(ERRORS)
                .description("NBD requests answered with an error").tags(base).tag("error", name)
                .register(registry))));
        readBytes = bytes(base, READ_BYTES, "Bytes read by NBD clients");
        writtenBytes = bytes(base, WRITTEN_BYTES, "Bytes written by NBD clients");
        zeroedBytes = bytes(base, ZEROED_BYTES, "Bytes trimmed or zeroed by NBD clients");
        flushSyncs = sync(base, "flush");
        fuaSyncs = sync(base, "fua");
        skippedSyncs = add(Counter.builder(SYNCS_SKIPPED)
                .description("FLUSH or FUA answered without an fsync: nothing reached the image since the last one")
                .tags(base).register(registry));
        add(Gauge.builder(CONNECTIONS, connections, AtomicInteger::get)
                .description("Open NBD connections").tags(base).register(registry));
        for (Disconnect reason : Disconnect.values()) {
            disconnects.put(reason, add(Counter.builder(DISCONNECTS)
                    .description("NBD connections ended: client, protocol (closed on a malformed message), error")
                    .tags(base).tag("reason", reason.name().toLowerCase()).register(registry)));
        }
    }

    private Counter request(Tags base, String command) {
        return add(Counter.builder(REQUESTS).description("NBD requests received, by command")
                .tags(base).tag("command", command).register(registry));
    }

    private Counter bytes(Tags base, String name, String description) {
        return add(Counter.builder(name).description(description).baseUnit(BaseUnits.BYTES).tags(base)
                .register(registry));
    }

    private Counter sync(Tags base, String reason) {
        return add(Counter.builder(SYNCS).description("fsyncs of the image, for FLUSH or FUA")
                .tags(base).tag("reason", reason).register(registry));
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    void request(int command) {
        requests.getOrDefault(command, otherRequests).increment();
    }

    void error(int error) {
        Counter counter = errors.get(error);
        if (counter != null) {
            counter.increment();
        }
    }

    void read(long bytes) {
        readBytes.increment(bytes);
    }

    void written(long bytes) {
        writtenBytes.increment(bytes);
    }

    void zeroed(long bytes) {
        zeroedBytes.increment(bytes);
    }

    void synced(boolean fua) {
        (fua ? fuaSyncs : flushSyncs).increment();
    }

    void syncSkipped() {
        skippedSyncs.increment();
    }

    void connected() {
        connections.incrementAndGet();
    }

    void disconnected(Disconnect reason) {
        connections.decrementAndGet();
        disconnects.get(reason).increment();
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
    }
}
