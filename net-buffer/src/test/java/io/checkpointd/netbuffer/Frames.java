package io.checkpointd.netbuffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import org.assertj.core.api.Assertions;
import org.assertj.core.api.ListAssert;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Test frames and a sink that records what it is handed. */
final class Frames {
    private Frames() {
    }

    /** A direct frame of {@code sizeBytes} bytes, so paranoid leak detection tracks it. */
    static ByteBuf frame(int sizeBytes) {
        ByteBuf frame = Unpooled.directBuffer(Math.max(sizeBytes, 1));
        frame.writeZero(sizeBytes);
        return frame;
    }

    /** Takes ownership of every frame it is handed: remembers it, then releases it. */
    static final class RecordingSink implements Consumer<ByteBuf> {
        final List<ByteBuf> received = new ArrayList<>();

        /** Asserts on the frames received, compared by identity: {@code ByteBuf.equals} compares content. */
        ListAssert<ByteBuf> assertReceived() {
            return Assertions.assertThat(received).usingElementComparator((x, y) -> x == y ? 0 : 1);
        }

        @Override
        public void accept(ByteBuf frame) {
            received.add(frame);
            frame.release();
        }
    }
}
