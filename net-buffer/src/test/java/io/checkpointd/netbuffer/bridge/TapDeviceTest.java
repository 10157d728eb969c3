package io.checkpointd.netbuffer.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real tap devices in the test's own network namespace. */
class TapDeviceTest {
    @BeforeAll
    static void needsTaps() {
        RealNetwork.assumeAvailable("TapDeviceTest");
    }

    @Test
    void aNewTapIsUpWhileOpenAndGoneAfterClose() throws IOException {
        String name = RealNetwork.uniqueName("cpttap");
        try (TapDevice tap = TapDevice.open(name)) {
            assertThat(tap.name()).isEqualTo(name);
            assertThat(tap.persistent()).isFalse();
            assertThat(RealNetwork.linkUp(name)).isTrue();
        }
        assertThat(RealNetwork.linkExists(name)).isFalse();
    }

    @Test
    void aPersistentTapIsAttachedAndLeftInPlace() throws IOException {
        String name = RealNetwork.uniqueName("cpttap");
        RealNetwork.run("ip", "tuntap", "add", "dev", name, "mode", "tap");
        try {
            try (TapDevice tap = TapDevice.open(name)) {
                assertThat(tap.persistent()).isTrue();
                assertThat(RealNetwork.linkUp(name)).isTrue();
            }
            assertThat(RealNetwork.linkExists(name)).isTrue();
        } finally {
            RealNetwork.tryRun("ip", "link", "del", "dev", name);
        }
    }

    @Test
    void aTapAlreadyAttachedElsewhereIsRefusedWithTheDeviceAndErrno() throws IOException {
        String name = RealNetwork.uniqueName("cpttap");
        try (TapDevice first = TapDevice.open(name)) {
            assertThatThrownBy(() -> TapDevice.open(name)).isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot open tap '" + name + "'")
                    .hasMessageContaining("TUNSETIFF")
                    .hasMessageContaining("(EBUSY)");
            assertThat(first.name()).isEqualTo(name);
        }
    }

    @Test
    void closeWakesAReaderBlockedInRead() throws Exception {
        TapDevice tap = TapDevice.open(RealNetwork.uniqueName("cpttap"));
        CompletableFuture<Integer> lastRead = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().name("test-tap-reader").start(() -> {
            ByteBuffer frame = ByteBuffer.allocateDirect(TapDevice.MAX_FRAME_BYTES);
            try {
                int n;
                do {
                    n = tap.read(frame.clear()); // the kernel may send a frame or two (IPv6) first
                } while (n >= 0);
                lastRead.complete(n);
            } catch (IOException | RuntimeException e) {
                lastRead.completeExceptionally(e);
            }
        });
        RealNetwork.await("the reader blocked in poll", 3_000, () -> blockedInPoll(reader));

        long startNs = System.nanoTime();
        tap.close();
        assertThat(lastRead.get(1, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs)).isLessThan(1_000);

        assertThat(tap.read(ByteBuffer.allocateDirect(TapDevice.MAX_FRAME_BYTES))).isEqualTo(-1);
        assertThatThrownBy(() -> tap.write(ByteBuffer.allocate(60))).isInstanceOf(ClosedChannelException.class);
        tap.close();
    }

    @Test
    void heapAndDirectBuffersAreWrittenFromTheirPosition() throws IOException {
        try (TapDevice tap = TapDevice.open(RealNetwork.uniqueName("cpttap"))) {
            // The tap is in the test's own namespace: an EtherType for local experiments, which no stack takes.
            byte[] frame = new byte[60];
            ByteBuffer.wrap(frame).put(new byte[] {-1, -1, -1, -1, -1, -1}).put(new byte[] {0x52, 0x54, 0, 1, 2, 3})
                    .putShort((short) 0x88b5);
            ByteBuffer heap = ByteBuffer.allocate(frame.length + 3).position(3).put(frame).position(3);
            tap.write(heap);
            assertThat(heap.hasRemaining()).isFalse();
            ByteBuffer direct = ByteBuffer.allocateDirect(frame.length + 5).position(5).put(frame).position(5);
            tap.write(direct);
            assertThat(direct.hasRemaining()).isFalse();
            assertThatThrownBy(() -> tap.write(ByteBuffer.allocate(4))).isInstanceOf(IOException.class)
                    .hasMessageContaining(tap.name()).hasMessageContaining("(EINVAL)");
        }
    }

    private static boolean blockedInPoll(Thread thread) {
        StackTraceElement[] stack = thread.getStackTrace();
        return stack.length > 0 && stack[0].getMethodName().equals("poll");
    }
}
