package io.checkpointd.libvirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a backup needs to restore a libvirt domain, sent in HELLO: the domain XML as the primary runs it,
 * the guest's MAC and IPv4 address (for the announcement after failover) and the sizes. JSON.
 *
 * @param guestIpv4 empty when not configured
 * @param diskBytes the NBD disk's size, 0 without one (read by the backup without knowing the driver)
 */
public record LibvirtDescription(String driver, String xml, String mac, String guestIpv4, long ramBytes,
                                 long diskBytes) {
    static final String DRIVER = "libvirt";
    private static final ObjectMapper JSON = new ObjectMapper();

    public LibvirtDescription(String xml, String mac, String guestIpv4, long ramBytes, long diskBytes) {
        this(DRIVER, xml, mac, guestIpv4, ramBytes, diskBytes);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot describe the domain", e);
        }
    }

    /** True when {@code json} is a libvirt description (the backup picks the restorer by it). */
    public static boolean describes(String json) {
        try {
            return DRIVER.equals(JSON.readTree(json).path("driver").asText());
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    public static LibvirtDescription parse(String json) {
        try {
            LibvirtDescription d = JSON.readValue(json, LibvirtDescription.class);
            if (!DRIVER.equals(d.driver()) || d.xml() == null || d.mac() == null) {
                throw new IllegalArgumentException("not a libvirt domain description");
            }
            return d;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("unreadable libvirt domain description: " + e.getOriginalMessage());
        }
    }
}
