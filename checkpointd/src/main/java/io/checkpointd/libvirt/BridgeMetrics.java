package io.checkpointd.libvirt;

import io.checkpointd.netbuffer.bridge.BridgeCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.util.function.ToDoubleFunction;

/** A frame bridge's counters as Prometheus counters, by direction: from_guest, to_tap, to_guest. */
final class BridgeMetrics {
    private BridgeMetrics() {
    }

    static void register(MeterRegistry registry, Tags tags, BridgeCounters counters) {
        frames(registry, tags, counters, "from_guest", BridgeCounters::fromGuestFrames);
        frames(registry, tags, counters, "to_tap", BridgeCounters::toTapFrames);
        frames(registry, tags, counters, "to_guest", BridgeCounters::toGuestFrames);
        bytes(registry, tags, counters, "from_guest", BridgeCounters::fromGuestBytes);
        bytes(registry, tags, counters, "to_tap", BridgeCounters::toTapBytes);
        bytes(registry, tags, counters, "to_guest", BridgeCounters::toGuestBytes);
        dropped(registry, tags, counters, "to_tap", BridgeCounters::toTapDroppedFrames);
        dropped(registry, tags, counters, "to_guest", BridgeCounters::toGuestDroppedFrames);
    }

    private static void frames(MeterRegistry registry, Tags tags, BridgeCounters c, String direction,
                               ToDoubleFunction<BridgeCounters> f) {
        FunctionCounter.builder("checkpointd.net.bridge.frames", c, f).tags(tags).tag("direction", direction)
                .description("Ethernet frames through the frame bridge between the guest's NIC and the tap")
                .register(registry);
    }

    private static void bytes(MeterRegistry registry, Tags tags, BridgeCounters c, String direction,
                              ToDoubleFunction<BridgeCounters> f) {
        FunctionCounter.builder("checkpointd.net.bridge", c, f).baseUnit(BaseUnits.BYTES).tags(tags)
                .tag("direction", direction).description("Bytes of those frames").register(registry);
    }

    private static void dropped(MeterRegistry registry, Tags tags, BridgeCounters c, String direction,
                                ToDoubleFunction<BridgeCounters> f) {
        FunctionCounter.builder("checkpointd.net.bridge.dropped.frames", c, f).tags(tags).tag("direction", direction)
                .description("Frames the bridge dropped: the tap refused them, or no guest was connected")
                .register(registry);
    }
}
