package io.checkpointd.libvirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The libvirt driver's description of its guest, sent in HELLO's {@code GuestSpec}: the domain XML as the
 * primary runs it, the guest's MAC and IPv4 address (for the announcement after failover) and its RAM size
 * as the XML states it. JSON.
 *
 * @param guestIpv4 empty when not configured
 */
public record LibvirtDescription(String xml, String mac, String guestIpv4, long ramBytes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot describe the domain", e);
        }
    }

    public static LibvirtDescription parse(String json) {
        try {
            LibvirtDescription d = JSON.readValue(json, LibvirtDescription.class);
            if (d.xml() == null || d.mac() == null) {
                throw new IllegalArgumentException("not a libvirt domain description");
            }
            return d;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("unreadable libvirt domain description: " + e.getOriginalMessage());
        }
    }
}
