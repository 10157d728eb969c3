package io.checkpointd.replication.wire;

/**
 * Primary to backup, first frame on a connection: what is being protected.
 *
 * @param protocolVersion {@link FrameCodec#PROTOCOL_VERSION} of the sender
 * @param domainName      the protected domain; a backup serves one domain per connection
 * @param ramBytes        guest RAM size; the backup's replica must be exactly this size
 * @param pageSizeBytes   page granularity of PAGES frames
 * @param heartbeatPort   UDP port of the primary's heartbeat channel (same host as this connection), 0 if none
 * @param sessionToken    shared by both ends' heartbeats, so stray datagrams are not taken for life
 * @param description     what the backup needs to start the guest after a failover (the driver's own
 *                        format: the sim guest's settings, a libvirt domain's XML), at most
 *                        {@link FrameCodec#MAX_DESCRIPTION_BYTES} of UTF-8
 */
public record Hello(int protocolVersion, String domainName, long ramBytes, int pageSizeBytes, int heartbeatPort,
                    long sessionToken, String description) implements Frame {

    /** A HELLO without heartbeat channel or description (tests, tools). */
    public Hello(int protocolVersion, String domainName, long ramBytes, int pageSizeBytes) {
        this(protocolVersion, domainName, ramBytes, pageSizeBytes, 0, 0, "");
    }

    @Override
    public long epoch() {
        return 0;
    }
}
