package io.checkpointd.backup;

import io.checkpointd.config.HostPort;
import io.checkpointd.replication.ByteCounter;
import io.checkpointd.replication.wire.FrameDecoder;
import io.checkpointd.replication.wire.FrameEncoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup's replication listener. Each connection gets a {@link BackupSession}; the replica stores
 * outlive connections (a reconnecting primary finds its domain's store) and one domain is served by at
 * most one connection at a time.
 */
public final class BackupServer implements BackupSession.StoreProvider, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupServer.class);

    private final Path baseDir;
    private final BackupMetrics metrics;
    private final long maxDeviceStateBytes;
    private final Map<String, ReplicaStore> stores = new HashMap<>();
    private final Set<String> active = new HashSet<>();
    private Channel serverChannel;

    public BackupServer(Path baseDir, BackupMetrics metrics, long maxDeviceStateBytes) {
        this.baseDir = baseDir;
        this.metrics = metrics;
        this.maxDeviceStateBytes = maxDeviceStateBytes;
    }

    /** Binds and starts accepting primaries; returns the bound address (port 0 picks a free one). */
    public InetSocketAddress start(EventLoopGroup group, HostPort listen, int maxFrameBytes, int maxPagesPerFrame) {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(
                                new ByteCounter(n -> { }, metrics.bytesReceived::increment),
                                new FrameDecoder(maxFrameBytes, maxPagesPerFrame),
                                new FrameEncoder(),
                                new BackupSession(BackupServer.this, metrics, maxDeviceStateBytes));
                    }
                });
        serverChannel = b.bind(listen.host(), listen.port()).syncUninterruptibly().channel();
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        LOG.info("backup listening on {}:{}, replicas under {}", bound.getHostString(), bound.getPort(), baseDir);
        return bound;
    }

    @Override
    public synchronized ReplicaStore acquire(String domain, long ramBytes, int pageSizeBytes)
            throws IOException, ProtocolViolation {
        if (active.contains(domain)) {
            throw new ProtocolViolation("domain '" + domain + "' is already being replicated by another primary");
        }
        ReplicaStore store = stores.get(domain);
        if (store != null && (store.ramBytes() != ramBytes || store.pageSizeBytes() != pageSizeBytes)) {
            LOG.warn("{}: RAM or page size changed ({} -> {} bytes); starting a new replica", domain, store.ramBytes(),
                    ramBytes);
            store.close();
            store = null;
        }
        if (store == null) {
            store = ReplicaStore.open(baseDir, domain, ramBytes, pageSizeBytes);
            stores.put(domain, store);
        }
        active.add(domain);
        return store;
    }

    @Override
    public synchronized void releaseStore(ReplicaStore store) {
        active.remove(store.directory().getFileName().toString());
    }

    /** The store of {@code domain}, or null if no primary has connected for it. */
    public synchronized ReplicaStore store(String domain) {
        return stores.get(domain);
    }

    @Override
    public synchronized void close() {
        // The daemon shuts its event loops down first (connections end before stores close); then the
        // listener is already closed with them.
        if (serverChannel != null && !serverChannel.eventLoop().isShuttingDown()) {
            serverChannel.close().syncUninterruptibly();
        }
        stores.values().forEach(ReplicaStore::close);
        stores.clear();
    }
}
