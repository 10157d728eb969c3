package io.checkpointd.disk.nbd;

import io.checkpointd.disk.WriteListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An NBD server for one export: a raw image file served over a unix socket or loopback TCP, every change
 * reported to a {@link WriteListener} before the client hears it succeeded.
 *
 * <p>Speaks the fixed newstyle handshake ({@link HandshakeHandler}) and simple-reply transmission
 * ({@link TransmissionHandler}): READ, WRITE (with FUA), FLUSH, TRIM, WRITE_ZEROES, DISC. QEMU connects with
 * {@code <disk type='network'><source protocol='nbd' name='EXPORT'><host transport='unix' socket='PATH'/>}
 * and the qemu-utils tools with the URI from {@link #uri()}.
 *
 * <p>One NIO event loop thread serves all connections, TCP or unix socket (Netty's NIO domain socket
 * channels over the JDK's own unix sockets: no native library to load). A malformed request closes only
 * its own connection.
 *
 * <p>The export's size is the image's size at start; the server never resizes it.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final long SHUTDOWN_TIMEOUT_MS = 2000;

    private final NbdServerConfig config;
    private final Export export;
    private final NbdMetrics metrics;
    private final EventLoopGroup group;
    private final ChannelGroup channels;
    private final Channel serverChannel;
    private final SocketAddress localAddress;

    private NbdServer(NbdServerConfig config, Export export, NbdMetrics metrics, EventLoopGroup group,
                      ChannelGroup channels, Channel serverChannel, SocketAddress localAddress) {
        this.config = config;
        this.export = export;
        this.metrics = metrics;
        this.group = group;
        this.channels = channels;
        this.serverChannel = serverChannel;
        this.localAddress = localAddress;
    }

    /**
     * Opens the image and starts listening.
     *
     * @param listener told of every write, trim and zeroing ({@link WriteListener#NONE} to mirror nothing)
     * @param registry where the meters go (see {@link NbdMetrics})
     * @param tags     tags that tell this server's meters apart (e.g. {@code domain}, {@code disk})
     * @throws IOException if the image cannot be opened or the address cannot be bound
     */
    public static NbdServer start(NbdServerConfig config, WriteListener listener, MeterRegistry registry,
                                  Iterable<Tag> tags) throws IOException {
        Objects.requireNonNull(listener, "listener");
        boolean unix = config.listen() instanceof ListenAddress.UnixSocket;
        Export export = Export.open(config);
        NbdMetrics metrics = new NbdMetrics(Objects.requireNonNull(registry, "registry"), tags);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("nbd-" + config.exportName(), true), NioIoHandler.newFactory());
        ChannelGroup channels = new DefaultChannelGroup("nbd-" + config.exportName(), group.next());
        try {
            ConnectionTracker tracker = new ConnectionTracker(metrics, channels);
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(unix ? NioServerDomainSocketChannel.class : NioServerSocketChannel.class)
                    // A 32 MiB READ reply exceeds the high mark on its own: reading pauses until it is sent.
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("nbd-tracker", tracker)
                                    .addLast("nbd-handshake-decoder",
                                            new HandshakeDecoder(HandshakeDecoder.DEFAULT_MAX_OPTION_BYTES))
                                    .addLast("nbd-handshake", new HandshakeHandler(export, listener, metrics));
                        }
                    });
            if (!unix) {
                bootstrap.childOption(ChannelOption.TCP_NODELAY, true);
            }
            Channel serverChannel;
            SocketAddress localAddress;
            if (config.listen() instanceof ListenAddress.UnixSocket(Path path)) {
                serverChannel = bindUnix(bootstrap, path);
                localAddress = UnixDomainSocketAddress.of(path.toAbsolutePath());
            } else {
                ListenAddress.Tcp tcp = (ListenAddress.Tcp) config.listen();
                serverChannel = bootstrap.bind(new InetSocketAddress(tcp.host(), tcp.port())).syncUninterruptibly()
                        .channel();
                localAddress = serverChannel.localAddress();
            }
            NbdServer server = new NbdServer(config, export, metrics, group, channels, serverChannel, localAddress);
            LOG.info("NBD export '{}' ({}, {} bytes{}) listening at {}", config.exportName(), config.image(),
                    export.sizeBytes(), config.readOnly() ? ", read-only" : "", server.uri());
            return server;
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS).awaitUninterruptibly();
            metrics.close();
            export.close();
            throw e;
        }
    }

    /**
     * Binds so that the socket is never reachable with a looser mode than 0600: the socket is created in a
     * fresh 0700 directory, restricted, then renamed into place (a rename keeps the inode, so the bound
     * socket now answers at {@code path}).
     */
    private static Channel bindUnix(ServerBootstrap bootstrap, Path path) throws IOException {
        Path target = path.toAbsolutePath();
        replaceStaleSocket(target);
        Path privateDir = Files.createTempDirectory(target.getParent(), ".nbd-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path staging = privateDir.resolve("s");
        try {
            Channel channel = bootstrap.bind(UnixDomainSocketAddress.of(staging)).syncUninterruptibly()
                    .channel();
            try {
                Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-------"));
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                channel.close().syncUninterruptibly();
                throw e;
            }
            return channel;
        } finally {
            Files.deleteIfExists(staging);
            Files.deleteIfExists(privateDir);
        }
    }

    /** Removes a socket file nothing listens on any more; refuses a live socket or a file of another kind. */
    private static void replaceStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(path + " exists and is not a socket; not replacing it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException(path + " is the socket of a running server; not replacing it");
        } catch (java.net.ConnectException e) {
            LOG.info("replacing stale socket {}", path);
            Files.delete(path);
        }
    }

    /** Where the server listens (for TCP port 0, with the port it got). */
    public SocketAddress localAddress() {
        return localAddress;
    }

    /**
     * The export as an NBD URI, as qemu-img and qemu-io take it: {@code nbd+unix:///NAME?socket=PATH} or
     * {@code nbd://127.0.0.1:PORT/NAME}.
     */
    public String uri() {
        String name = URLEncoder.encode(config.exportName(), StandardCharsets.UTF_8).replace("+", "%20");
        if (localAddress instanceof UnixDomainSocketAddress unix) {
            return "nbd+unix:///" + name + "?socket=" + unix.getPath();
        }
        InetSocketAddress tcp = (InetSocketAddress) localAddress;
        String host = tcp.getAddress() instanceof Inet6Address
                ? "[" + tcp.getAddress().getHostAddress() + "]" : tcp.getAddress().getHostAddress();
        return "nbd://" + host + ":" + tcp.getPort() + "/" + name;
    }

    public String exportName() {
        return config.exportName();
    }

    public long exportSizeBytes() {
        return export.sizeBytes();
    }

    /**
     * Stops listening, closes every connection, waits for the event loop to finish, closes the image and
     * unregisters the meters. A unix socket file is removed.
     */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly();
        group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        try {
            export.close();
        } catch (IOException e) {
            LOG.warn("closing {} failed", config.image(), e);
        }
        metrics.close();
        if (localAddress instanceof UnixDomainSocketAddress unix) {
            try {
                Files.deleteIfExists(unix.getPath());
            } catch (IOException e) {
                LOG.warn("could not remove socket {}", unix.getPath(), e);
            }
        }
        LOG.info("NBD export '{}' closed", config.exportName());
    }
}
