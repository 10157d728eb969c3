package io.checkpointd.libvirt;

import io.checkpointd.config.LibvirtConfig;
import io.checkpointd.disk.WriteListener;
import io.checkpointd.disk.nbd.ListenAddress;
import io.checkpointd.disk.nbd.NbdServer;
import io.checkpointd.disk.nbd.NbdServerConfig;
import io.checkpointd.netbuffer.bridge.FrameBridge;
import io.checkpointd.netbuffer.bridge.TapDevice;
import io.checkpointd.util.MappedFiles;
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
 * Starts a protected domain on the backup from its replica, as QEMU-RECIPE.md describes: the domain is
 * created paused from the primary's XML with {@code -incoming defer}, its NIC on this host's frame bridge
 * and its disk on an NBD server over the disk replica; the replica RAM is written into the RAM file QEMU
 * made; the device state is streamed into an incoming migration; then it runs, and a gratuitous ARP tells
 * the network where the guest is now.
 *
 * <p>The restored guest runs unprotected: its bridge passes frames straight through, its disk is not
 * mirrored.
 */
public final class LibvirtRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtRestorer.class);
    private static final int VIR_DOMAIN_START_PAUSED = 1;
    private static final long INCOMING_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);

    private final LibvirtConfig config;
    private final EventLoop loop;
    private final MeterRegistry registry;

    public LibvirtRestorer(LibvirtConfig config, EventLoop loop, MeterRegistry registry) {
        this.config = config;
        this.loop = loop;
        this.registry = registry;
    }

    /**
     * What would make a restore fail on this host, checked when a primary connects: no tap configured or
     * present, QEMU's user missing, libvirt not answering, or a description this build cannot read.
     */
    public String cannotRestore(String descriptionJson) {
        try {
            LibvirtDescription description = LibvirtDescription.parse(descriptionJson);
            DomainXml.parse(description.xml(), "the primary's domain XML");
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (config.tap().isEmpty()) {
            return "libvirt.tap is not set here, and the restored guest needs a tap device for its network";
        }
        if (!Files.isDirectory(Path.of("/sys/class/net", config.tap()))) {
            return "tap device '" + config.tap() + "' (libvirt.tap) does not exist here: create it with ip tuntap add "
                    + "dev " + config.tap() + " mode tap, on the guest's LAN";
        }
        try {
            Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(config.qemuUser());
        } catch (IOException e) {
            return "no user '" + config.qemuUser() + "' (libvirt.qemu-user) here";
        }
        try {
            LibvirtTarget.closeQuietly(LibvirtTarget.connect(config.uri()));
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        return null;
    }

    /** @return the running guest; closing it destroys the domain and stops its bridge and disk */
    public AutoCloseable restore(String domainName, String descriptionJson, Path replicaRam, byte[] deviceState,
                                 Path diskImage) throws IOException {
        LibvirtDescription description = LibvirtDescription.parse(descriptionJson);
        DomainXml xml = DomainXml.parse(description.xml(), "domain '" + domainName + "' from the primary");
        String name = config.restoredName().isEmpty() ? domainName : config.restoredName();
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            Path socketDir = QemuSockets.prepareDir(config.runDir().resolve(name), config.qemuUser());
            opened.push(() -> Files.deleteIfExists(socketDir));
            if (config.tap().isEmpty()) {
                throw new IllegalStateException("libvirt.tap is not set on this backup: the restored guest needs a "
                        + "tap device for its network");
            }
            // Unprotected from here on: frames from the guest go straight out to the tap.
            DirectEgress egress = new DirectEgress();
            FrameBridge bridge = FrameBridge.start(TapDevice.open(config.tap()), loop,
                    new InetSocketAddress("127.0.0.1", 0), egress::send);
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
            int port = bridge.localAddress().getPort();
            Connect connection = LibvirtTarget.connect(config.uri());
            opened.push(() -> LibvirtTarget.closeQuietly(connection));
            long startNs = System.nanoTime();
            Domain domain = connection.domainCreateXML(xml.forRestore(name, port, nbdSocket), VIR_DOMAIN_START_PAUSED);
            opened.push(() -> {
                LOG.warn("{}: stopping the restored domain '{}': its network and disk are served by this daemon",
                        domainName, name);
                LibvirtDomain.destroyQuietly(domain);
            });
            long createdNs = System.nanoTime();
            Qmp qmp = new Qmp(domain, name);
            fillRam(qmp, replicaRam, description.ramBytes(), name);
            long filledNs = System.nanoTime();
            qmp.ignoreSharedMemory();
            Path incoming = socketDir.resolve("incoming.sock");
            qmp.execute("migrate-incoming", Qmp.args().put("uri", "unix:" + incoming));
            stream(incoming, deviceState);
            awaitPaused(qmp, name);
            long migratedNs = System.nanoTime();
            domain.resume();
            long resumedNs = System.nanoTime();
            announce(bridge, description);
            LOG.warn("{}: restored as '{}' and running: create {} ms, RAM {} ms, device state ({} bytes) {} ms, "
                            + "resume {} ms", domainName, name, millis(createdNs - startNs), millis(filledNs - createdNs),
                    deviceState.length, millis(migratedNs - filledNs), millis(resumedNs - migratedNs));
            return () -> Closing.inReverse(opened);
        } catch (IOException | LibvirtException | RuntimeException e) {
            Closing.inReverse(opened);
            throw new IOException("cannot restore domain '" + domainName + "' as '" + name + "': " + e.getMessage(), e);
        }
    }

    /** The restored guest's egress: straight to the tap. Set once, before QEMU exists to send anything. */
    private static final class DirectEgress {
        private volatile FrameBridge bridge;

        void send(ByteBuf frame) {
            bridge.sendToTap(frame);
        }
    }

    /** Copies the replica into the RAM file QEMU created for the new domain (shared: QEMU sees it). */
    private static void fillRam(Qmp qmp, Path replicaRam, long ramBytes, String name) throws IOException {
        Path ramFile = Path.of(qmp.ramFile(LibvirtDomain.RAM_OBJECT));
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
                if (System.nanoTime() > deadlineNs) {
                    throw new IOException("QEMU's incoming socket " + incoming + " never accepted: " + e.getMessage(), e);
                }
                sleepMs(5);
            }
        }
    }

    /** After the incoming migration QEMU stays paused (the domain was created paused). */
    private static void awaitPaused(Qmp qmp, String name) {
        long deadlineNs = System.nanoTime() + INCOMING_TIMEOUT_NS;
        while (true) {
            String status = qmp.runState();
            if (status.equals("paused")) {
                return;
            }
            String migration = qmp.migrationStatus();
            if (migration.equals("failed") || migration.equals("cancelled")) {
                throw new IllegalStateException(name + ": incoming migration " + migration + ": "
                        + qmp.lastMigration().path("error-desc").asText("no reason given"));
            }
            if (System.nanoTime() > deadlineNs) {
                throw new IllegalStateException(name + ": QEMU still '" + status + "' (migration '" + migration
                        + "') after the device state was sent");
            }
            sleepMs(2);
        }
    }

    private static void announce(FrameBridge bridge, LibvirtDescription description) throws IOException {
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

    private static long millis(long ns) {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restoring", e);
        }
    }
}
