package io.checkpointd.replication;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * What the replication connection runs over. TCP in production; in-VM channels let the same primary and
 * backup code run in one test process with the network out of the picture (Ratis runs its contract tests
 * over both the same way).
 */
public enum Transport {
    TCP(NioServerSocketChannel.class, NioSocketChannel.class),
    IN_MEMORY(LocalServerChannel.class, LocalChannel.class);

    private final Class<? extends ServerChannel> serverChannel;
    private final Class<? extends Channel> clientChannel;

    Transport(Class<? extends ServerChannel> serverChannel, Class<? extends Channel> clientChannel) {
        this.serverChannel = serverChannel;
        this.clientChannel = clientChannel;
    }

    public Class<? extends ServerChannel> serverChannel() {
        return serverChannel;
    }

    public Class<? extends Channel> clientChannel() {
        return clientChannel;
    }

    public boolean isSocket() {
        return this == TCP;
    }

    /** Event loops that can run this transport's channels. */
    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, this == TCP ? NioIoHandler.newFactory()
                : LocalIoHandler.newFactory());
    }
}
