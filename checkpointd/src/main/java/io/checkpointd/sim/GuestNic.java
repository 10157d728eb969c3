package io.checkpointd.sim;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;

/** The sim guest's network card, as the guest sees it: it can only transmit. */
@FunctionalInterface
public interface GuestNic {
    /** Sends {@code payload} (ownership passes to the NIC) to {@code recipient}. Called by guest threads. */
    void transmit(InetSocketAddress recipient, ByteBuf payload);
}
