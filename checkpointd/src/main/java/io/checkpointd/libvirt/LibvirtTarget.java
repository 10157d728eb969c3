package io.checkpointd.libvirt;

import io.checkpointd.config.LibvirtConfig;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * A domain found in libvirt and checked for protection, before anything is started: the daemon reads
 * from its XML where to listen (the NIC's port, the NBD socket) and must listen there before QEMU starts,
 * because QEMU connects to both at start and never again.
 */
public final class LibvirtTarget implements AutoCloseable {
    private final Connect connection;
    private final Domain domain;
    private final DomainXml xml;
    private final String uri;
    private boolean closed;

    private LibvirtTarget(Connect connection, Domain domain, DomainXml xml, String uri) {
        this.connection = connection;
        this.domain = domain;
        this.xml = xml;
        this.uri = uri;
    }

    /** Connects and looks the domain up; every failure says what to do about it. */
    public static LibvirtTarget find(LibvirtConfig config, String name) {
        Connect connection = connect(config.uri());
        try {
            Domain domain;
            try {
                domain = connection.domainLookupByName(name);
            } catch (LibvirtException e) {
                throw new IllegalArgumentException("no domain '" + name + "' in libvirt at " + config.uri()
                        + ": define it first (virsh define FILE; conf/libvirt/protected-domain.xml is an example)");
            }
            if (domain.isActive() == 1) {
                throw new IllegalStateException("domain '" + name + "' is already running; checkpointd starts it "
                        + "itself, because QEMU connects to the daemon's network and disk only at start: shut it "
                        + "down (virsh shutdown " + name + ") and run protect again");
            }
            DomainXml xml = DomainXml.parse(domain.getXMLDesc(0), "domain '" + name + "'").requireProtectable();
            return new LibvirtTarget(connection, domain, xml, config.uri());
        } catch (LibvirtException | RuntimeException e) {
            closeQuietly(connection);
            if (e instanceof LibvirtException le) {
                throw new IllegalStateException("libvirt at " + config.uri() + ": " + le.getMessage(), le);
            }
            throw (RuntimeException) e;
        }
    }

    static Connect connect(String uri) {
        try {
            return new Connect(uri);
        } catch (LibvirtException e) {
            throw new IllegalStateException("cannot connect to libvirt at " + uri + ": " + e.getMessage()
                    + " (is libvirtd running? scripts/libvirt-up starts it)", e);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("cannot load libvirt's client library (" + e.getMessage()
                    + "); install libvirt-clients", e);
        }
    }

    public DomainXml xml() {
        return xml;
    }

    public String uri() {
        return uri;
    }

    Connect connection() {
        return connection;
    }

    Domain domain() {
        return domain;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeQuietly(connection);
        }
    }

    static void closeQuietly(Connect connection) {
        try {
            connection.close();
        } catch (LibvirtException e) {
            // Closing: nothing useful to do with the error.
        }
    }
}
