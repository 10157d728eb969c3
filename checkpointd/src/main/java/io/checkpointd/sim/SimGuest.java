package io.checkpointd.sim;

import io.checkpointd.config.SimConfig;
import io.checkpointd.dirty.DirtyTracker;
import io.checkpointd.dirty.ExactTracker;
import io.checkpointd.driver.GuestMemory;
import io.checkpointd.driver.ProtectedDomain;
import io.checkpointd.util.MappedFiles;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The embedded guest ({@code driver: sim}): RAM is a mapped file, guest "CPUs" are Java threads (the
 * dirtying workload and the key-value service) that stop at a {@link Safepoint} when paused, and every
 * write is reported to an {@link ExactTracker}.
 *
 * <p>A guest started on an existing RAM file (a backup's replica) continues from the state in it.
 */
public final class SimGuest implements ProtectedDomain {
    private static final int RING_SLOTS = 4096;

    private final String name;
    private final SimConfig config;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final ExactTracker tracker;
    private final Safepoint safepoint = new Safepoint();
    private final KvLayout layout;
    private final KvService service;
    private final List<DirtyingWorkload> workloads = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final SimDisk disk;

    private SimGuest(String name, SimConfig config, Path ramFile, GuestNic nic, SimDisk disk) throws IOException {
        this.disk = disk;
        this.name = name;
        this.config = config;
        MemorySegment ram = MappedFiles.mapReadWrite(ramFile, config.ramBytes(), arena);
        this.memory = new GuestMemory(ram, ramFile, config.pageSizeBytes());
        this.tracker = new ExactTracker(memory.pageCount());
        this.layout = new KvLayout(config.pageSizeBytes(), config.keys());
        if (layout.regionBytes() >= config.ramBytes()) {
            throw new IllegalArgumentException("sim.keys: " + config.keys() + " keys do not fit in " + config.ramBytes()
                    + " bytes of guest RAM");
        }
        if (!layout.isFormatted(ram)) {
            DirtyingWorkload.fillLikeUsedMemory(ram.asSlice(layout.regionBytes()), 1);
        }
        layout.format(ram);
        this.service = new KvService(ram, layout, safepoint, tracker, nic, config.pageSizeBytes(), RING_SLOTS, disk);
    }

    /** Starts a fresh guest whose RAM lives in {@code ramFile} (created or reused). */
    public static SimGuest start(String name, SimConfig config, Path ramFile, GuestNic nic) throws IOException {
        return start(name, config, ramFile, nic, null);
    }

    /** As above, with a disk the service logs its updates to ({@code disk} is closed with the guest). */
    public static SimGuest start(String name, SimConfig config, Path ramFile, GuestNic nic, SimDisk disk)
            throws IOException {
        SimGuest guest = new SimGuest(name, config, ramFile, nic, disk);
        guest.startThreads();
        return guest;
    }

    /** Starts a guest from a backup's replica RAM file and the device state committed with it. */
    public static SimGuest restore(String name, SimConfig config, Path replicaRamFile, byte[] deviceState,
                                   GuestNic nic) throws IOException {
        return restore(name, config, replicaRamFile, deviceState, nic, null);
    }

    /** Restores with the disk replica as the guest's disk. */
    public static SimGuest restore(String name, SimConfig config, Path replicaRamFile, byte[] deviceState,
                                   GuestNic nic, SimDisk disk) throws IOException {
        SimDeviceState state = SimDeviceState.decode(deviceState);
        SimDeviceState expected = new SimDeviceState(config.ramBytes(), config.pageSizeBytes(), config.keys());
        if (!state.equals(expected)) {
            throw new IllegalArgumentException("replica was taken from a guest shaped " + state
                    + " but this guest is configured as " + expected);
        }
        return start(name, config, replicaRamFile, nic, disk);
    }

    private void startThreads() {
        long perThread = config.writerThreads() == 0 ? 0 : config.dirtyPagesPerSecond() / config.writerThreads();
        for (int i = 0; i < config.writerThreads() && perThread > 0; i++) {
            DirtyingWorkload w = new DirtyingWorkload(memory.segment(), safepoint, tracker, config.pageSizeBytes(),
                    layout.regionBytes(), config.hotSetBytes(), config.hotFraction(), perThread, 42L + i);
            workloads.add(w);
            threads.add(Thread.ofPlatform().daemon().name("sim-vcpu-" + i).start(w));
        }
        threads.add(Thread.ofPlatform().daemon().name("sim-kv-service").start(service));
    }

    /** A datagram from the outside world reached the guest's NIC. Ownership of {@code datagram} stays with the caller. */
    public void receive(InetSocketAddress sender, ByteBuf datagram) {
        service.deliver(sender, datagram);
    }

    public KvLayout layout() {
        return layout;
    }

    /** Requests dropped because the guest's receive ring was full (it was paused too long or overloaded). */
    public long ringDrops() {
        return service.ringDrops();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public DirtyTracker dirtyTracker() {
        return tracker;
    }

    @Override
    public void pause() {
        safepoint.pause();
    }

    @Override
    public byte[] captureDeviceState() {
        return new SimDeviceState(config.ramBytes(), config.pageSizeBytes(), config.keys()).encode();
    }

    @Override
    public void resume() {
        safepoint.resume();
    }

    @Override
    public void close() {
        workloads.forEach(DirtyingWorkload::stop);
        service.stop();
        for (Thread t : threads) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        arena.close();
        if (disk != null) {
            try {
                disk.close();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
