package io.checkpointd.netbuffer.bridge;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace made for one test ({@code ip netns add}), deleted with every device in it on close.
 *
 * <p>{@link #openUdp} opens a socket inside the namespace without a helper process: a fresh thread joins
 * the namespace with setns(2) (network namespaces are per thread), opens the socket and ends; the socket
 * stays in the namespace it was created in.
 */
final class Netns implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;

    static {
        Native.register(Netns.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private final String name;

    private Netns(String name) {
        this.name = name;
    }

    static Netns create() {
        Netns netns = new Netns(RealNetwork.uniqueName("cpb-test-"));
        RealNetwork.run("ip", "netns", "add", netns.name);
        return netns;
    }

    String name() {
        return name;
    }

    /** {@code ip -n NAME args...} */
    String ip(String... args) {
        String[] command = new String[args.length + 3];
        command[0] = "ip";
        command[1] = "-n";
        command[2] = name;
        System.arraycopy(args, 0, command, 3, args.length);
        return RealNetwork.run(command);
    }

    /** {@code ip netns exec NAME command...} */
    String exec(String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(command, 0, full, 4, command.length);
        return RealNetwork.run(full);
    }

    /** A blocking IPv4 UDP socket bound to {@code local} inside this namespace. */
    DatagramChannel openUdp(InetSocketAddress local) throws Exception {
        CompletableFuture<DatagramChannel> opened = new CompletableFuture<>();
        Thread.ofPlatform().name("netns-" + name).start(() -> {
            int fd = LinuxLibc.open("/run/netns/" + name, LinuxLibc.O_RDONLY | LinuxLibc.O_CLOEXEC);
            if (fd < 0) {
                opened.completeExceptionally(new IOException("open /run/netns/" + name + ": "
                        + Errno.describe(Errno.last())));
                return;
            }
            try {
                if (setns(fd, CLONE_NEWNET) != 0) {
                    throw new IOException("setns " + name + ": " + Errno.describe(Errno.last()));
                }
                DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
                channel.bind(local);
                opened.complete(channel);
            } catch (IOException | RuntimeException e) {
                opened.completeExceptionally(e);
            } finally {
                LinuxLibc.close(fd);
            }
        });
        return opened.get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        RealNetwork.tryRun("ip", "netns", "del", name);
    }

    private static native int setns(int fd, int nstype);
}
