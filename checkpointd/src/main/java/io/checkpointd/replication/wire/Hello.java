package io.checkpointd.replication.wire;

/**
 * Primary to backup, first frame on a connection: who speaks, and what is being protected.
 *
 * <p>A HELLO of another protocol version decodes with only {@code protocolVersion} read (the one field all
 * versions share), an empty domain name and a null {@code guest}, so the backup can refuse it with a reason
 * rather than take the rest of its bytes for a corrupt frame.
 *
 * @param protocolVersion {@link FrameCodec#PROTOCOL_VERSION} of the sender
 * @param domainName      the protected domain; a backup serves one domain per connection
 * @param heartbeatPort   UDP port of the primary's heartbeat channel (same host as this connection), 0 if none
 * @param sessionToken    shared by both ends' heartbeats, so stray datagrams are not taken for life
 * @param guest           the guest and its driver; null only in a HELLO of another protocol version
 */
public record Hello(int protocolVersion, String domainName, int heartbeatPort, long sessionToken, GuestSpec guest)
        implements Frame {

    /** A HELLO of this version without heartbeat channel (tests, tools). */
    public Hello(String domainName, GuestSpec guest) {
        this(FrameCodec.PROTOCOL_VERSION, domainName, 0, 0, guest);
    }

    @Override
    public long epoch() {
        return 0;
    }
}
