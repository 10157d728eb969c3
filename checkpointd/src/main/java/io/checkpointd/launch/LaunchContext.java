package io.checkpointd.launch;

import io.checkpointd.config.CheckpointdConfig;
import io.checkpointd.config.HostPort;
import io.checkpointd.config.TlsConfig;
import io.checkpointd.replication.tls.TlsMaterial;
import io.checkpointd.driver.Driver;
import io.checkpointd.replication.Transport;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a daemon is started from, in one place, checked once: the config, the drivers, the clock, the
 * transport, the event loops and the meter registry. The command line fills it from a config file; tests
 * and benchmarks fill it with their own clock, transport, loops or driver, and so start the same daemon the
 * command line does (Aeron's {@code MediaDriver.launch(ctx)} is the model).
 *
 * <p>Set what differs from the defaults, then hand it to {@code PrimaryDaemon.launch} or
 * {@code BackupDaemon.launch}, which call {@link #conclude()}. A context is used for one daemon; loops the
 * caller passed in stay the caller's to shut down, loops the daemon made are its own.
 */
public final class LaunchContext {
    private static final Logger LOG = LoggerFactory.getLogger(LaunchContext.class);
    /** The status a primary halts with once it handed a guest it lost over to the backup (EX_SOFTWARE). */
    public static final int EXIT_GUEST_LOST = 70;
    private CheckpointdConfig config;
    private final List<Driver> drivers = new ArrayList<>();
    private NanoClock clock = NanoClock.SYSTEM;
    private Transport transport = Transport.TCP;
    private SocketAddress backupAddress;
    private SocketAddress listenAddress;
    private EventLoopGroup ioLoops;
    private EventLoopGroup heartbeatLoops;
    private MeterRegistry registry;
    private Consumer<ChannelPipeline> replicationPipeline = pipeline -> { };
    private boolean invokeEpochs;
    private Runnable onHandedOver = () -> Runtime.getRuntime().halt(EXIT_GUEST_LOST);
    private boolean concluded;
    private TlsMaterial tls;

    public LaunchContext config(CheckpointdConfig config) {
        this.config = config;
        return this;
    }

    /** Adds a driver. A primary runs the one its config names; a backup restores guests of any it has. */
    public LaunchContext driver(Driver driver) {
        drivers.add(driver);
        return this;
    }

    /** The daemon's monotonic clock (default: {@link NanoClock#SYSTEM}). */
    public LaunchContext clock(NanoClock clock) {
        this.clock = clock;
        return this;
    }

    /** What replication runs over (default TCP); heartbeats have their own UDP channel only over sockets. */
    public LaunchContext transport(Transport transport) {
        this.transport = transport;
        return this;
    }

    /** The primary's backup (default: {@code replication.backup} of the config; required for in-memory). */
    public LaunchContext backupAddress(SocketAddress backupAddress) {
        this.backupAddress = backupAddress;
        return this;
    }

    /** Where the backup listens (default: {@code replication.listen} of the config; required for in-memory). */
    public LaunchContext listenAddress(SocketAddress listenAddress) {
        this.listenAddress = listenAddress;
        return this;
    }

    /** Event loops for replication, the guest's network and (primary) heartbeats; default: the daemon's own. */
    public LaunchContext ioLoops(EventLoopGroup ioLoops) {
        this.ioLoops = ioLoops;
        return this;
    }

    /** The backup's heartbeat loops, kept apart from the replication loop; default: the daemon's own. */
    public LaunchContext heartbeatLoops(EventLoopGroup heartbeatLoops) {
        this.heartbeatLoops = heartbeatLoops;
        return this;
    }

    /** Where the daemon's meters go (default: a registry of its own, which nothing scrapes). */
    public LaunchContext registry(MeterRegistry registry) {
        this.registry = registry;
        return this;
    }

    /** Called with each replication connection's pipeline on the primary (tests add fault injection). */
    public LaunchContext replicationPipeline(Consumer<ChannelPipeline> replicationPipeline) {
        this.replicationPipeline = replicationPipeline;
        return this;
    }

    /**
     * When true, the primary starts no epoch thread: the caller runs the epoch loop by invoking it, with
     * its own time (a test stepping checkpoints, a benchmark timing pauses). Default false.
     */
    public LaunchContext invokeEpochs(boolean invokeEpochs) {
        this.invokeEpochs = invokeEpochs;
        return this;
    }

    /**
     * What a primary does after it lost its guest, fenced it and sent HANDOVER. Default: halt the process with
     * {@value #EXIT_GUEST_LOST} at once (no shutdown hooks, no GOODBYE: the backup must take over). Tests
     * that launch a primary in their own JVM set something that does not halt it.
     */
    public LaunchContext onHandedOver(Runnable onHandedOver) {
        this.onHandedOver = onHandedOver;
        return this;
    }

    /**
     * The replication connection's TLS material, already loaded (tests); by default it is loaded from
     * {@code replication.tls-dir} when {@code replication.tls} is on.
     */
    public LaunchContext tls(TlsMaterial tls) {
        this.tls = tls;
        return this;
    }

    /**
     * Checks the context and fills in defaults; a daemon calls it on launch. Throws
     * {@link IllegalArgumentException} naming what is missing or inconsistent.
     */
    public LaunchContext conclude() {
        if (concluded) {
            return this;
        }
        if (config == null) {
            throw new IllegalArgumentException("launch context: no config");
        }
        if (drivers.isEmpty()) {
            throw new IllegalArgumentException("launch context: no driver");
        }
        if (drivers.stream().map(Driver::name).distinct().count() != drivers.size()) {
            throw new IllegalArgumentException("launch context: two drivers of one name: "
                    + drivers.stream().map(Driver::name).toList());
        }
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(transport, "transport");
        if (!transport.isSocket() && (backupAddress == null && listenAddress == null)) {
            throw new IllegalArgumentException("launch context: the " + transport + " transport needs an address");
        }
        if (backupAddress == null) {
            HostPort backup = config.replication().backup();
            backupAddress = InetSocketAddress.createUnresolved(backup.host(), backup.port());
        }
        if (listenAddress == null) {
            HostPort listen = config.replication().listen();
            listenAddress = new InetSocketAddress(listen.host(), listen.port());
        }
        if (registry == null) {
            registry = new SimpleMeterRegistry();
        }
        concludeTls();
        concluded = true;
        return this;
    }

    /**
     * Secure by default: TLS needs its material; plain TCP needs an explicit {@code replication.tls: off} and
     * stays on loopback, where only this host's processes can reach the port.
     */
    private void concludeTls() {
        TlsConfig t = config.replication().tls();
        if (!t.enabled()) {
            tls = null;
            if (transport.isSocket()) {
                for (SocketAddress address : List.of(backupAddress, listenAddress)) {
                    if (!isLoopback(address)) {
                        throw new IllegalArgumentException("replication.tls is off, but " + address + " is not a "
                                + "loopback address: plain TCP would let anyone who reaches it send a guest to run. "
                                + "Give each daemon --tls-dir DIR/<host> (checkpointd certs init DIR --hosts "
                                + "primary,backup makes a lab set)");
                    }
                }
                LOG.warn("replication.tls is off: plain TCP on loopback; any process on this host can reach the "
                        + "replication port");
            }
            return;
        }
        if (tls == null) {
            if (t.dir() == null) {
                throw new IllegalArgumentException("replication.tls is on (the default), but no TLS material is "
                        + "given: pass --tls-dir DIR/<host> (replication.tls-dir) holding ca.pem, cert.pem and key.pem "
                        + "('checkpointd certs init DIR --hosts primary,backup' makes a lab set), or write "
                        + "'replication.tls: off' for plain TCP on loopback");
            }
            try {
                tls = TlsMaterial.load(t.dir());
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
    }

    private static boolean isLoopback(SocketAddress address) {
        if (!(address instanceof InetSocketAddress inet)) {
            return true; // in-VM channels never leave the process
        }
        try {
            InetAddress ip = inet.isUnresolved() ? InetAddress.getByName(inet.getHostString()) : inet.getAddress();
            return ip.isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public CheckpointdConfig config() {
        return config;
    }

    /** The loaded TLS material, or null for plain TCP or in-VM channels (after {@link #conclude()}). */
    public TlsMaterial tls() {
        return tls;
    }

    /** The driver named {@code name}; the message lists those there are. */
    public Driver driver(String name) {
        return drivers.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("no driver '" + name + "' here (there are: "
                        + drivers.stream().map(Driver::name).toList() + ")"));
    }

    public List<Driver> drivers() {
        return List.copyOf(drivers);
    }

    public NanoClock clock() {
        return clock;
    }

    public Transport transport() {
        return transport;
    }

    public SocketAddress backupAddress() {
        return backupAddress;
    }

    public SocketAddress listenAddress() {
        return listenAddress;
    }

    /** The caller's loops, or null: the daemon makes and owns its own. */
    public EventLoopGroup ioLoops() {
        return ioLoops;
    }

    /** The caller's heartbeat loops, or null: the daemon makes and owns its own. */
    public EventLoopGroup heartbeatLoops() {
        return heartbeatLoops;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public Consumer<ChannelPipeline> replicationPipeline() {
        return replicationPipeline;
    }

    public boolean invokeEpochs() {
        return invokeEpochs;
    }

    public Runnable onHandedOver() {
        return onHandedOver;
    }
}
