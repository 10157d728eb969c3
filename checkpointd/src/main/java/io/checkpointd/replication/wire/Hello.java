package io.checkpointd.replication.wire;

/**
 * Primary to backup, first frame on a connection: what is being protected.
 *
 * @param protocolVersion {@link FrameCodec#PROTOCOL_VERSION} of the sender
 * @param domainName      the protected domain; a backup serves one domain per connection
 * @param ramBytes        guest RAM size; the backup's replica must be exactly this size
 * @param pageSizeBytes   page granularity of PAGES frames
 */
public record Hello(int protocolVersion, String domainName, long ramBytes, int pageSizeBytes) implements Frame {
    @Override
    public long epoch() {
        return 0;
    }
}
