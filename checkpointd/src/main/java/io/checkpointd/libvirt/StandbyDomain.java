package io.checkpointd.libvirt;

import io.checkpointd.config.LibvirtConfig;
import io.checkpointd.disk.WriteListener;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.checkpointd.netbuffer.bridge.FrameBridge;
import io.checkpointd.netbuffer.bridge.TapDevice;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.checkpointd.util.MappedFiles;
import io.checkpointd.util.NanoClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protected domain on the backup, created paused and waiting for its state ({@code -incoming defer}):
 * its NIC on this host's frame bridge and tap, its disk on an NBD server over the disk replica. Made when
 * a primary connects (a warm standby: creating a domain is most of a restore's time) or, failing that,
 * at failover. {@link #resume} then writes the replica RAM into QEMU's RAM file, streams the device state
 * in, runs the guest and announces it with a gratuitous ARP.
 *
 * <p>Until resumed it uses little memory: its RAM file is sparse and QEMU runs no guest code.
 */
final class StandbyDomain implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyDomain.class);
    private static final int VIR_DOMAIN_START_PAUSED = 1;
    private static final long INCOMING_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);

    private final String domainName;
    private final String name;
    private final String descriptionJson;
    private final LibvirtDescription description;
    private final Deque<AutoCloseable> opened;
    private final FrameBridge bridge;
    private final Domain domain;
    private final Path socketDir;
    private final long createNs;
    private final Object diskIdentity;
    private final Path ramFile;
    private final QmpMonitor monitor;

    private StandbyDomain(LibvirtConfig config, EventLoop loop, MeterRegistry registry, String domainName,
                          String descriptionJson, Path diskImage, Deque<AutoCloseable> opened)
            throws IOException, LibvirtException {
        this.domainName = domainName;
        this.descriptionJson = descriptionJson;
        this.opened = opened;
        this.description = LibvirtDescription.parse(descriptionJson);
        this.diskIdentity = identityOf(diskImage);
        DomainXml xml = DomainXml.parse(description.xml(), "domain '" + domainName + "' from the primary");
        this.name = config.restoredName().isEmpty() ? domainName : config.restoredName();
        socketDir = QemuSockets.prepareDir(config.runDir().resolve(name), config.qemuUser());
        opened.push(() -> Files.deleteIfExists(socketDir));
        if (config.tap().isEmpty()) {
            throw new IllegalStateException("libvirt.tap is not set on this backup: the restored guest needs a "
                    + "tap device for its network");
        }
        // Unprotected once resumed: frames from the guest go straight out to the tap.
        DirectEgress egress = new DirectEgress();
        bridge = FrameBridge.start(TapDevice.open(config.tap()), loop, new InetSocketAddress("127.0.0.1", 0),
                egress::send);
        egress.bridge = bridge;
        opened.push(bridge);
        Path nbdSocket = null;
        if (xml.nbdDisk().isPresent()) {
            if (diskImage == null) {
                throw new IllegalStateException("the domain has an NBD disk but this backup holds no disk replica");
            }
            nbdSocket = socketDir.resolve("disk.sock");
            NbdServer nbd = NbdServer.start(NbdServerConfig.of(xml.nbdDisk().get().export(), diskImage,
                    new ListenAddress.UnixSocket(nbdSocket)), WriteListener.NONE, registry,
                    Tags.of("domain", name, "disk", "vda"));
            opened.push(nbd);
            QemuSockets.handToQemu(nbdSocket, config.qemuUser());
        }
        Connect connection = LibvirtTarget.connect(config.uri());
        opened.push(() -> LibvirtTarget.closeQuietly(connection));
        removeOrphan(connection, name, domainName);
        long startNs = System.nanoTime();
        Path qmpSocket = socketDir.resolve("qmp.sock");
        Files.deleteIfExists(qmpSocket);
        domain = connection.domainCreateXML(xml.forRestore(name, bridge.localAddress().getPort(), nbdSocket,
                qmpSocket), VIR_DOMAIN_START_PAUSED);
        opened.push(() -> {
            LOG.info("{}: stopping domain '{}' here: its network and disk are served by this daemon", domainName, name);
            LibvirtDomain.destroyQuietly(domain);
            Files.deleteIfExists(qmpSocket);
        });
        createNs = System.nanoTime() - startNs;
        // The restore's commands go over the daemon's own monitor, as the primary's epochs do: through
        // libvirtd each costs milliseconds, and the restore waits for events instead of polling.
        monitor = QmpMonitor.connect(name, qmpSocket, NanoClock.SYSTEM, INCOMING_TIMEOUT_NS);
        opened.push(monitor);
        ramFile = Path.of(monitor.execute("qom-get", QmpMonitor.args().put("path", LibvirtDomain.RAM_OBJECT)
                .put("property", "mem-path")).asText());
        // Set now, not at failover: one round trip less on the way to a running guest.
        ObjectNode capabilities = QmpMonitor.args();
        for (String capability : new String[] {"x-ignore-shared", "events"}) {
            capabilities.withArray("capabilities").add(QmpMonitor.args().put("capability", capability)
                    .put("state", true));
        }
        monitor.execute("migrate-set-capabilities", capabilities);
    }

    /**
     * A standby left behind by a backup daemon that was killed (its domains outlive it) would block this
     * one forever: remove it. A domain of that name that runs a guest is left alone and named.
     */
    private static void removeOrphan(Connect connection, String name, String domainName) throws LibvirtException {
        Domain existing;
        try {
            existing = connection.domainLookupByName(name);
        } catch (LibvirtException e) {
            return; // none: the usual case
        }
        String state = existing.isActive() == 1 ? new Qmp(existing, name).runState() : "shut off";
        if (!state.equals("inmigrate")) {
            throw new IllegalStateException("a domain named '" + name + "' already exists here (" + state
                    + "); stop or undefine it, or give the restored domain another name (libvirt.restored-name)");
        }
        LOG.warn("{}: removing '{}', a standby left waiting by an earlier backup daemon", domainName, name);
        existing.destroy();
    }

    static StandbyDomain create(LibvirtConfig config, EventLoop loop, MeterRegistry registry, String domainName,
                                String descriptionJson, Path diskImage) throws IOException {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            return new StandbyDomain(config, loop, registry, domainName, descriptionJson, diskImage, opened);
        } catch (IOException | LibvirtException | RuntimeException e) {
            Closing.inReverse(opened);
            throw new IOException("cannot create domain '" + domainName + "' here: " + e.getMessage(), e);
        }
    }

    /**
     * Still what it was made for: the same primary description, the same disk replica file (the backup
     * starts a new one when the disk's size changes; the NBD server here would still serve the old one), and
     * QEMU alive, waiting for its state.
     */
    boolean standsFor(String descriptionJson, Path diskImage) {
        if (!this.descriptionJson.equals(descriptionJson) || !java.util.Objects.equals(diskIdentity,
                identityOf(diskImage))) {
            return false;
        }
        try {
            // Over the own monitor (a dead QEMU fails it): this check is on the failover path.
            return monitor.execute("query-status", null).path("status").asText().equals("inmigrate");
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The file's identity (device and inode), or null when there is no such file. */
    private static Object identityOf(Path file) {
        try {
            return file == null ? null
                    : Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    long createNs() {
        return createNs;
    }

    /** The file QEMU maps as this domain's RAM (shared): what the backup may keep equal to its replica. */
    Path ramFile() {
        return ramFile;
    }

    /**
     * Gives the domain the checkpoint and runs it; from here on it is the running, restored guest.
     *
     * @param ramInPlace when it is this domain's {@link #ramFile()}, the backup kept it equal to the replica
     *                   and no RAM is copied
     */
    void resume(Path replicaRam, byte[] deviceState, Path ramInPlace) throws IOException {
        long startNs = System.nanoTime();
        boolean inPlace = ramFile.equals(ramInPlace);
        if (!inPlace) {
            fillRam(replicaRam);
        }
        long filledNs = System.nanoTime();
        monitor.discardEvents();
        Path incoming = socketDir.resolve("incoming.sock");
        monitor.execute("migrate-incoming", QmpMonitor.args().put("uri", "unix:" + incoming));
        stream(incoming, deviceState);
        awaitIncoming();
        long migratedNs = System.nanoTime();
        monitor.execute("cont", null);
        long resumedNs = System.nanoTime();
        announce();
        long announcedNs = System.nanoTime();
        LOG.warn("{}: running here as '{}': RAM {} ms{}, device state ({} bytes) {} ms, resume {} ms, announce {} ms "
                        + "(domain created {} ms before)", domainName, name, millis(filledNs - startNs),
                inPlace ? " (already in place)" : " (copied)", deviceState.length,
                millis(migratedNs - filledNs), millis(resumedNs - migratedNs), millis(announcedNs - resumedNs),
                millis(createNs));
    }

    /** Copies the replica into the RAM file QEMU created for this domain (shared: QEMU sees it). */
    private void fillRam(Path replicaRam) throws IOException {
        long ramBytes = description.ramBytes();
        if (Files.size(ramFile) != ramBytes || Files.size(replicaRam) != ramBytes) {
            throw new IllegalStateException(name + ": RAM sizes differ: QEMU's " + ramFile + " has "
                    + Files.size(ramFile) + " bytes, the replica " + Files.size(replicaRam) + ", the primary "
                    + ramBytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment target = MappedFiles.mapReadWrite(ramFile, ramBytes, arena);
            MemorySegment source = MappedFiles.mapReadOnly(replicaRam, arena);
            MemorySegment.copy(source, 0, target, 0, ramBytes);
        }
    }

    /** QEMU creates the incoming socket once migrate-incoming runs; connect (retrying briefly) and send. */
    private static void stream(Path incoming, byte[] deviceState) throws IOException {
        long deadlineNs = System.nanoTime() + INCOMING_TIMEOUT_NS;
        while (true) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(incoming));
                ByteBuffer bytes = ByteBuffer.wrap(deviceState);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                return;
            } catch (java.net.SocketException | java.nio.file.NoSuchFileException e) {
                if (System.nanoTime() - deadlineNs > 0) {
                    throw new IOException("QEMU's incoming socket " + incoming + " never accepted: " + e.getMessage(), e);
                }
                sleepMs(5);
            }
        }
    }

    /** The incoming migration's end, from its MIGRATION event; QEMU then stays paused (created paused). */
    private void awaitIncoming() {
        String status = monitor.awaitEvent("MIGRATION", s -> s != null && switch (s) {
            case "completed", "failed", "cancelled" -> true;
            default -> false;
        }, INCOMING_TIMEOUT_NS).status();
        if (!status.equals("completed")) {
            throw new IllegalStateException(name + ": incoming migration " + status + ": " + monitor.execute(
                    "query-migrate", null).path("error-desc").asText("no reason given"));
        }
    }

    private void announce() throws IOException {
        if (description.guestIpv4().isEmpty()) {
            LOG.info("no libvirt.guest-ipv4 on the primary: no gratuitous ARP; the network learns the guest's new "
                    + "place from its own traffic");
            return;
        }
        byte[] mac = HexFormat.ofDelimiter(":").parseHex(description.mac());
        Inet4Address ip = (Inet4Address) InetAddress.getByName(description.guestIpv4());
        bridge.announce(mac, ip);
        LOG.info("announced {} at {} by gratuitous ARP", description.guestIpv4(), description.mac());
    }

    /** Milliseconds with one decimal, for the restore's log line. */
    private static String millis(long ns) {
        return String.format(java.util.Locale.ROOT, "%.1f", ns / 1e6);
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restoring", e);
        }
    }

    /** Destroys the domain and stops its bridge and disk. */
    @Override
    public void close() {
        Closing.inReverse(opened);
    }

    /** The restored guest's egress: straight to the tap. Set once, before QEMU exists to send anything. */
    private static final class DirectEgress {
        private volatile FrameBridge bridge;

        void send(ByteBuf frame) {
            bridge.sendToTap(frame);
        }
    }
}
