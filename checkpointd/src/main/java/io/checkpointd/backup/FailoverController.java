package io.checkpointd.backup;

import io.checkpointd.failure.PeerMonitor;
import io.checkpointd.failure.PeerState;
import io.checkpointd.driver.GuestRestorer;
import io.checkpointd.replication.wire.GuestSpec;
import io.checkpointd.replication.wire.Hello;
import io.checkpointd.util.NanoClock;
import io.checkpointd.replication.wire.Standby;
import io.netty.channel.Channel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one domain's primary from the backup and fails over when it is dead: closes whatever checkpoint
 * was half received (it is discarded, the replica stays at the last commit), starts the guest from the
 * replica and device state, and from then on serves the guest unprotected and refuses that primary.
 *
 * <p>Armed by HELLO, disarmed by GOODBYE (a planned stop is not a failure); HANDOVER (the primary lost its
 * guest) fails over at once. Never fails over without a
 * committed checkpoint. Driven by {@link #poll(long)} with the time as a parameter; everything runs on the
 * backup's single event loop, so a session cannot commit while a failover is under way.
 */
public final class FailoverController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverController.class);

    /** What a failover did, for logs, the demo and tests. */
    public record Outcome(long resumedEpoch, long detectedAfterNs, long restoreNs) {
    }

    private final String domain;
    private final PeerMonitor monitor;
    private final GuestRestorer restorer;
    private final BackupMetrics metrics;
    private final NanoClock clock;
    private ReplicaStore store;
    private GuestSpec guest;
    private Channel session;
    private boolean armed;
    private PeerState lastState = PeerState.UNKNOWN;
    private volatile Outcome outcome; // read by tests, /status and the demo from other threads
    private AutoCloseable restored;
    // What the restorer said of its standby: null never (a driver without standbys); read by /status.
    private volatile Boolean standbyReady;

    /** @param clock times the restore (the failover itself happens at the {@code nowNs} it is polled with) */
    public FailoverController(String domain, PeerMonitor monitor, GuestRestorer restorer, BackupMetrics metrics,
                              NanoClock clock) {
        this.domain = domain;
        this.monitor = monitor;
        this.restorer = restorer;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** A primary said HELLO for this domain on {@code channel}. */
    void onHello(Hello hello, ReplicaStore replicaStore, Channel channel, long nowNs) throws ProtocolViolation {
        if (outcome != null) {
            throw new ProtocolViolation("domain '" + domain + "' failed over to this host at epoch "
                    + outcome.resumedEpoch() + " and runs here now; protect it again with a new backup");
        }
        store = replicaStore;
        guest = hello.guest();
        session = channel;
        armed = true;
        monitor.watch(nowNs);
        try {
            Files.writeString(store.directory().resolve("domain.description"), guest.description(),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("{}: cannot keep the domain description on disk: {}", domain, e.toString());
        }
        Channel connection = channel;
        restorer.prepare(domain, guest, store.diskImage(),
                ramFile -> connection.eventLoop().execute(() -> onStandby(connection, ramFile)));
    }

    /**
     * On the event loop: the standby made for {@code connection}'s primary is ready (its RAM file given) or
     * gone. A ready standby's RAM is kept equal to the replica from now on, so a failover need not copy it;
     * the primary is told, for its status.
     */
    private void onStandby(Channel connection, Path ramFile) {
        if (session != connection || !armed) {
            return; // that primary is gone, or a failover already took what there was
        }
        standbyReady = Boolean.FALSE;
        store.stopMirroring();
        if (ramFile == null) {
            connection.writeAndFlush(new Standby(false));
            return;
        }
        try {
            store.startMirroring(ramFile);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot keep the standby's RAM {} in step with the replica ({}); a failover will copy "
                    + "the replica into it", domain, ramFile, e.toString());
            standbyReady = Boolean.TRUE; // ready all the same: only the failover's RAM copy is back
            connection.writeAndFlush(new Standby(true));
            return;
        }
        copyIntoStandby(connection, ramFile, clock.nanoTime());
    }

    /** One chunk per event-loop task, so sessions and failure detection go on while 128+ MiB are copied. */
    private void copyIntoStandby(Channel connection, Path ramFile, long startNs) {
        if (!armed || !ramFile.equals(store.mirrorFile())) {
            return; // a failover or a goodbye came first, or another standby replaced this one
        }
        if (!store.copyMirrorChunk()) {
            connection.eventLoop().execute(() -> copyIntoStandby(connection, ramFile, startNs));
            return;
        }
        standbyReady = Boolean.TRUE;
        LOG.info("{}: the standby's RAM ({}) now follows the replica (copied in {} ms); a failover loads only the "
                + "device state", domain, ramFile, TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - startNs));
        connection.writeAndFlush(new Standby(true));
    }

    /** True while a standby is ready for this domain, false while not, null for a driver without standbys. */
    public Boolean standbyReady() {
        return standbyReady;
    }

    void onSignOfLife(long nowNs) {
        monitor.onSignOfLife(nowNs);
    }

    /** The primary stopped protection on purpose. */
    void onGoodbye() {
        if (armed) {
            LOG.info("{}: primary stopped protection on purpose; the replica is kept, no failover", domain);
        }
        armed = false;
        standbyReady = null;
        if (store != null) {
            store.stopMirroring();
        }
        restorer.unprepare(domain);
    }

    /** The primary stopped the guest because it could not run it any more: fail over now, not after silence. */
    void onHandover(long nowNs) {
        if (!armed) {
            return;
        }
        LOG.warn("{}: the primary handed the guest over (it could no longer run it)", domain);
        armed = false;
        failover(nowNs, monitor.silenceNs(nowNs));
    }

    void onSessionClosed(Channel channel) {
        if (session == channel) {
            session = null;
        }
    }

    /** Checks the primary; fails over when it is dead. Returns true if a failover happened in this call. */
    public boolean poll(long nowNs) {
        if (!armed) {
            return false;
        }
        PeerState state = monitor.poll(nowNs);
        if (state != lastState) {
            if (state == PeerState.SUSPECT) {
                LOG.warn("{}: primary silent for {} ms", domain, TimeUnit.NANOSECONDS.toMillis(monitor.silenceNs(nowNs)));
            } else if (state == PeerState.ALIVE && lastState == PeerState.SUSPECT) {
                LOG.info("{}: primary heard again", domain);
            }
            lastState = state;
        }
        if (state != PeerState.DEAD) {
            return false;
        }
        armed = false;
        failover(nowNs, monitor.silenceNs(nowNs));
        return outcome != null;
    }

    private void failover(long nowNs, long silenceNs) {
        if (session != null) {
            // Same event loop: the session's channelInactive runs now and discards a half-received checkpoint.
            session.close();
            session = null;
        }
        long epoch = store == null ? -1 : store.lastCommittedEpoch();
        if (epoch <= 0) {
            LOG.error("{}: primary dead after {} ms of silence, but no checkpoint was ever committed here; "
                    + "nothing to resume", domain, TimeUnit.NANOSECONDS.toMillis(silenceNs));
            return;
        }
        LOG.warn("{}: primary dead ({} ms of silence); resuming the guest from committed epoch {}", domain,
                TimeUnit.NANOSECONDS.toMillis(silenceNs), epoch);
        long startNs = nowNs;
        Path ramInPlace = store.mirroredRamFile();
        standbyReady = null;
        long preparedNs;
        try {
            byte[] deviceState = store.committedDeviceState();
            store.markRestored();
            preparedNs = clock.nanoTime();
            restored = restorer.restore(domain, guest, store.replicaFile(), deviceState, store.diskImage(),
                    ramInPlace);
        } catch (Exception e) {
            LOG.error("{}: failover FAILED, the guest is not running anywhere: {}", domain, e.toString(), e);
            metrics.failoverFailures.increment();
            return;
        }
        long restoreNs = clock.nanoTime() - startNs;
        // The guest runs on that RAM now: this daemon must never write it again.
        store.stopMirroring();
        outcome = new Outcome(epoch, silenceNs, restoreNs);
        metrics.failovers.increment();
        metrics.failoverRestore.record(restoreNs, TimeUnit.NANOSECONDS);
        LOG.warn("{}: FAILOVER done: guest running on this host from epoch {}, unprotected ({} ms to restore)",
                domain, epoch, TimeUnit.NANOSECONDS.toMillis(restoreNs));
        try {
            Files.writeString(store.directory().resolve("failover.json"), "{\"resumed_epoch\": " + epoch
                    + ", \"detected_after_ms\": " + String.format("%.3f", silenceNs / 1e6)
                    + ", \"restore_ms\": " + String.format("%.3f", restoreNs / 1e6)
                    + ", \"restore_phases_ms\": {\"read_and_mark\": "
                    + String.format("%.3f", (preparedNs - startNs) / 1e6)
                    + ", \"driver\": " + String.format("%.3f", (startNs + restoreNs - preparedNs) / 1e6) + "}"
                    + ", \"ram_in_place\": " + (ramInPlace != null) + "}\n");
        } catch (IOException e) {
            LOG.warn("{}: cannot write failover.json: {}", domain, e.toString());
        }
    }

    public Outcome outcome() {
        return outcome;
    }


    public PeerMonitor monitor() {
        return monitor;
    }

    @Override
    public void close() {
        restorer.unprepare(domain);
        if (restored != null) {
            try {
                restored.close();
            } catch (Exception e) {
                LOG.warn("{}: error stopping the restored guest: {}", domain, e.toString());
            }
        }
        monitor.close();
    }
}
