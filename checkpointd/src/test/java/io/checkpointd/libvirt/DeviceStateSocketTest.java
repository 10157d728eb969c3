package io.checkpointd.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.util.NanoClock;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The socket QEMU's device-only migration is sent to, with a stand-in for QEMU on the other end. */
class DeviceStateSocketTest {
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);

    @TempDir
    Path dir;

    private DeviceStateSocket bind() throws IOException {
        return DeviceStateSocket.bind(dir.resolve("device-state.sock"), System.getProperty("user.name"),
                NanoClock.SYSTEM);
    }

    /** Plays QEMU: connects, writes {@code bytes}, and closes unless told to hold the connection open. */
    private static Thread qemu(Path socket, byte[] bytes, boolean close) {
        return Thread.ofPlatform().start(() -> {
            try {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                if (close) {
                    channel.close();
                } else {
                    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(TIMEOUT_NS) * 2);
                    channel.close();
                }
            } catch (IOException | InterruptedException e) {
                // The receiver may close first; that is what some tests want.
            }
        });
    }

    @Test
    void receivesEachEpochsStateToEndOfStream() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            assertThat(Files.getPosixFilePermissions(socket.path()))
                    .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            for (int epoch = 0; epoch < 3; epoch++) {
                byte[] state = new byte[300_000 + epoch * 70_000];
                new Random(epoch).nextBytes(state);
                Thread sender = qemu(socket.path(), state, true);
                assertThat(socket.receive(TIMEOUT_NS)).isEqualTo(state);
                sender.join();
            }
        }
    }

    @Test
    void aStartedReceiveReadsWhileTheEpochLoopDoesOtherWork() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            for (int epoch = 0; epoch < 2; epoch++) {
                // Several times a socket buffer: QEMU could not finish writing if nobody read meanwhile.
                byte[] state = new byte[2 << 20];
                new Random(epoch).nextBytes(state);
                socket.startReceive(TIMEOUT_NS);
                Thread sender = qemu(socket.path(), state, true);
                sender.join(TimeUnit.NANOSECONDS.toMillis(TIMEOUT_NS));
                assertThat(sender.isAlive()).as("QEMU wrote everything before the epoch loop asked for it").isFalse();
                assertThat(socket.awaitReceived()).isEqualTo(state);
            }
        }
    }

    @Test
    void aCancelledReceiveEndsAtOnceAndTheNextWorks() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            socket.startReceive(TimeUnit.SECONDS.toNanos(30));
            assertThatThrownBy(() -> socket.startReceive(TIMEOUT_NS)).hasMessageContaining("already being received");
            long startNs = System.nanoTime();
            socket.cancelReceive();
            assertThatThrownBy(socket::awaitReceived).isInstanceOf(IOException.class)
                    .hasMessageContaining("receiving the device state at " + socket.path() + " was cancelled");
            assertThat(System.nanoTime() - startNs).isLessThan(TimeUnit.SECONDS.toNanos(5));
            socket.startReceive(TIMEOUT_NS);
            Thread sender = qemu(socket.path(), new byte[1000], true);
            assertThat(socket.awaitReceived()).hasSize(1000);
            sender.join();
        }
    }

    @Test
    void aQemuThatNeverConnectsIsATimeoutNamingTheSocket() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            assertThatThrownBy(() -> socket.receive(TimeUnit.MILLISECONDS.toNanos(200)))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("QEMU did not connect to " + socket.path() + " within 200 ms");
        }
    }

    @Test
    void aQemuThatStallsMidStateIsATimeoutSayingHowMuchCame() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            Thread sender = qemu(socket.path(), new byte[1000], false);
            assertThatThrownBy(() -> socket.receive(TimeUnit.MILLISECONDS.toNanos(300)))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("device state from QEMU incomplete after 300 ms (1000 bytes)");
            sender.interrupt();
            sender.join();
            // The next epoch works again.
            byte[] state = new byte[4096];
            Thread next = qemu(socket.path(), state, true);
            assertThat(socket.receive(TIMEOUT_NS)).hasSize(4096);
            next.join();
        }
    }

    @Test
    void moreThanAnyDeviceStateIsRefused() throws Exception {
        try (DeviceStateSocket socket = bind()) {
            Thread sender = qemu(socket.path(), new byte[DeviceStateSocket.MAX_DEVICE_STATE_BYTES + 1], true);
            assertThatThrownBy(() -> socket.receive(TimeUnit.SECONDS.toNanos(20)))
                    .isInstanceOf(IOException.class).hasMessageContaining("exceeds 64 MiB");
            sender.join();
        }
    }

    @Test
    void anUnknownOwnerIsNamed() {
        assertThatThrownBy(() -> DeviceStateSocket.bind(dir.resolve("s.sock"), "no-such-user-x", NanoClock.SYSTEM))
                .hasMessageContaining("no user 'no-such-user-x'");
        assertThat(dir.resolve("s.sock")).doesNotExist();
    }
}
