package io.checkpointd.sim;

import io.checkpointd.dirty.ExactTracker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sim guest's service: a key-value store whose whole state lives in guest RAM ({@link KvLayout}).
 * Requests arrive through {@link #deliver}, as a NIC's receive ring would fill; one guest thread serves
 * them inside the safepoint and transmits each reply through the {@link GuestNic} (where net-buffer holds
 * it until the checkpoint containing the state change is acknowledged).
 */
final class KvService implements Runnable {
    private record Inbound(InetSocketAddress sender, KvProtocol.Request request) {
    }

    private final MemorySegment ram;
    private final KvLayout layout;
    private final Safepoint safepoint;
    private final ExactTracker tracker;
    private final GuestNic nic;
    private final int pageSizeBytes;
    private final SimDisk disk; // null: the guest has no disk
    private final BlockingQueue<Inbound> ring;
    private final AtomicLong ringDrops = new AtomicLong();
    private volatile boolean running = true;

    KvService(MemorySegment ram, KvLayout layout, Safepoint safepoint, ExactTracker tracker, GuestNic nic,
              int pageSizeBytes, int ringSlots, SimDisk disk) {
        this.disk = disk;
        this.ram = ram;
        this.layout = layout;
        this.safepoint = safepoint;
        this.tracker = tracker;
        this.nic = nic;
        this.pageSizeBytes = pageSizeBytes;
        this.ring = new ArrayBlockingQueue<>(ringSlots);
    }

    /** A datagram arrived for the guest. Never blocks: a full ring drops it, as a NIC does. */
    void deliver(InetSocketAddress sender, ByteBuf datagram) {
        KvProtocol.Request request = KvProtocol.Request.parse(datagram);
        if (request == null || !ring.offer(new Inbound(sender, request))) {
            ringDrops.incrementAndGet();
        }
    }

    long ringDrops() {
        return ringDrops.get();
    }

    void stop() {
        running = false;
    }

    @Override
    public void run() {
        try {
            while (running) {
                Inbound in = ring.poll(10, TimeUnit.MILLISECONDS);
                if (in == null) {
                    continue;
                }
                safepoint.enter();
                try {
                    nic.transmit(in.sender(), serve(in.request()));
                } finally {
                    safepoint.exit();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ByteBuf serve(KvProtocol.Request request) {
        byte status = KvProtocol.STATUS_OK;
        long value = 0;
        if (request.key() < 0 || request.key() >= layout.keys()) {
            status = KvProtocol.STATUS_BAD_REQUEST;
        } else if (request.op() == KvProtocol.OP_SET) {
            layout.set(ram, request.key(), request.value());
            tracker.markDirty(layout.slotOffset(request.key()) / pageSizeBytes);
            value = request.value();
            if (disk != null) {
                // Where the record goes derives from state in RAM, so a restored guest continues the log
                // exactly where its checkpoint left it.
                disk.log(layout.served(ram), request.key(), value);
            }
        } else if (request.op() == KvProtocol.OP_GET) {
            value = layout.valueOf(ram, request.key());
        } else {
            status = KvProtocol.STATUS_BAD_REQUEST;
        }
        layout.countServed(ram);
        tracker.markDirty(0);
        ByteBuf reply = ByteBufAllocator.DEFAULT.buffer(KvProtocol.REPLY_BYTES);
        new KvProtocol.Reply(request.requestId(), status, request.op(), request.key(), value).writeTo(reply);
        return reply;
    }
}
