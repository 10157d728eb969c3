package io.checkpointd.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.checkpointd.config.SimConfig;
import io.checkpointd.dirty.DirtyPageSet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimGuestTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 9);

    @TempDir
    Path dir;

    private final LinkedBlockingQueue<ByteBuf> sent = new LinkedBlockingQueue<>();

    private SimConfig small() {
        return SimConfig.defaults().withRamBytes(16L << 20).withHotSetBytes(1L << 20).withDirtyPagesPerSecond(50_000);
    }

    private KvProtocol.Reply call(SimGuest guest, KvProtocol.Request request) throws InterruptedException {
        ByteBuf in = Unpooled.buffer();
        request.writeTo(in);
        guest.receive(CLIENT, in);
        in.release();
        ByteBuf out = sent.poll(5, TimeUnit.SECONDS);
        assertThat(out).as("reply").isNotNull();
        try {
            return KvProtocol.Reply.parse(out);
        } finally {
            out.release();
        }
    }

    @Test
    void pausedGuestWritesNothingAndTheTrackerSawEveryChange() throws Exception {
        try (SimGuest guest = SimGuest.start("t", small(), dir.resolve("ram"), (to, p) -> sent.add(p))) {
            Thread.sleep(50);
            guest.pause();
            guest.dirtyTracker().collect();
            byte[] before = guest.memory().segment().toArray(ValueLayout.JAVA_BYTE);
            guest.resume();
            Thread.sleep(100);
            guest.pause();
            try {
                byte[] mid = guest.memory().segment().toArray(ValueLayout.JAVA_BYTE);
                Thread.sleep(50);
                assertThat(guest.memory().segment().toArray(ValueLayout.JAVA_BYTE)).as("no writes while paused")
                        .isEqualTo(mid);
                DirtyPageSet dirty = guest.dirtyTracker().collect();
                assertThat(dirty.count()).isPositive();
                int page = guest.memory().pageSizeBytes();
                for (long p = 0; p < guest.memory().pageCount(); p++) {
                    boolean changed = !java.util.Arrays.equals(before, (int) (p * page), (int) ((p + 1) * page),
                            mid, (int) (p * page), (int) ((p + 1) * page));
                    if (changed) {
                        assertThat(dirty.contains(p)).as("changed page %d was reported", p).isTrue();
                    }
                }
            } finally {
                guest.resume();
            }
        }
    }

    @Test
    void serviceStateLivesInRamAndARestoredGuestContinuesFromIt() throws Exception {
        byte[] device;
        try (SimGuest guest = SimGuest.start("t", small(), dir.resolve("ram"), (to, p) -> sent.add(p))) {
            assertThat(call(guest, new KvProtocol.Request(1, KvProtocol.OP_SET, 17, 4242)).value()).isEqualTo(4242);
            assertThat(call(guest, new KvProtocol.Request(2, KvProtocol.OP_GET, 17, 0)).value()).isEqualTo(4242);
            assertThat(call(guest, new KvProtocol.Request(3, KvProtocol.OP_SET, 99_999, 1)).status())
                    .isEqualTo(KvProtocol.STATUS_BAD_REQUEST);
            guest.pause();
            device = guest.captureDeviceState();
            Files.copy(dir.resolve("ram"), dir.resolve("replica"));
            guest.resume();
        }
        try (SimGuest restored = SimGuest.restore("t", small(), dir.resolve("replica"), device, (to, p) -> sent.add(p))) {
            assertThat(restored.layout().valueOf(restored.memory().segment(), 17)).isEqualTo(4242);
            assertThat(call(restored, new KvProtocol.Request(4, KvProtocol.OP_GET, 17, 0)).value()).isEqualTo(4242);
        }
        assertThatThrownBy(() -> SimGuest.restore("t", small().withKeys(10), dir.resolve("replica"), device,
                (to, p) -> p.release())).hasMessageContaining("shaped");
    }
}
