package io.checkpointd.disk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.ArrayList;
import java.util.List;

/** Keeps a copy of every change it is told of. */
public final class RecordingListener implements WriteListener {
    private final List<DiskWrite> writes = new ArrayList<>();

    @Override
    public synchronized void onWrite(long offset, ByteBuf data) {
        writes.add(DiskWrite.write(offset, ByteBufUtil.getBytes(data)));
    }

    @Override
    public synchronized void onTrim(long offset, long length) {
        writes.add(DiskWrite.trim(offset, length));
    }

    @Override
    public synchronized void onZeroes(long offset, long length) {
        writes.add(DiskWrite.zeroes(offset, length));
    }

    public synchronized List<DiskWrite> writes() {
        return List.copyOf(writes);
    }
}
