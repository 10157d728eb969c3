package io.checkpointd.libvirt;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.w3c.dom.Attr;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * What a backup accepts of a domain definition that came from its peer (HELLO) before it hands it to
 * libvirt: the XML names the QEMU command line and every host file libvirt opens, so a peer's word alone
 * must not choose them. Refused, with the element named:
 * <ul>
 *   <li>any {@code qemu:} element or attribute (a command line the backup's operator did not write);</li>
 *   <li>any device but the plain ones a protected guest needs (no {@code hostdev}, {@code filesystem},
 *       {@code smartcard}, {@code redirdev}, {@code shmem} or any other host passthrough);</li>
 *   <li>a disk other than NBD over a unix socket, and a NIC other than the daemon's socket
 *       ({@code interface type='client'});</li>
 *   <li>a file path outside the daemon's directories ({@code libvirt.run-dir} and the operator's
 *       {@code /var/lib/libvirt/boot} for kernels and console logs), and an emulator other than this host's
 *       {@code /usr/bin/qemu-system-*}.</li>
 * </ul>
 */
final class PeerDomainPolicy {
    /** Devices a protected guest may have; anything else is host passthrough or not needed. */
    private static final Set<String> DEVICES = Set.of("emulator", "disk", "interface", "serial", "console",
            "controller", "memballoon", "input", "video", "watchdog", "panic", "rng", "audio");
    /** Attributes and elements that name a host file. */
    private static final Set<String> PATH_ATTRIBUTES = Set.of("path", "file", "dir", "dev", "socket");
    private static final Set<String> PATH_ELEMENTS = Set.of("kernel", "initrd", "loader", "nvram", "dtb", "emulator");
    static final Path BOOT_DIR = Path.of("/var/lib/libvirt/boot");

    private final List<Path> allowedDirs;

    PeerDomainPolicy(Path runDir) {
        this.allowedDirs = List.of(runDir.toAbsolutePath().normalize(), BOOT_DIR);
    }

    /** Why the backup refuses to start this definition, or null when it may. */
    String problem(DomainXml xml) {
        return problem(xml.root(), "domain");
    }

    private String problem(Element e, String where) {
        String here = where.equals("domain") && e.getParentNode().getNodeType() == Node.DOCUMENT_NODE ? "<domain>"
                : where + " <" + e.getTagName() + ">";
        if (DomainXml.QEMU_NS.equals(e.getNamespaceURI())) {
            return "the primary's domain XML carries <" + e.getTagName() + ">: a backup never runs a QEMU command "
                    + "line its operator did not write";
        }
        NamedNodeMap attributes = e.getAttributes();
        for (int i = 0; i < attributes.getLength(); i++) {
            Attr a = (Attr) attributes.item(i);
            if (DomainXml.QEMU_NS.equals(a.getNamespaceURI())) {
                return "the primary's domain XML carries the qemu attribute " + a.getName() + " on " + here;
            }
            if (PATH_ATTRIBUTES.contains(a.getLocalName() == null ? a.getName() : a.getLocalName())
                    && a.getValue().startsWith("/") && !allowed(a.getValue())) {
                return "the primary's domain XML names the host file " + a.getValue() + " (" + here + " "
                        + a.getName() + "), outside the daemon's directories " + allowedDirs;
            }
        }
        String tag = e.getTagName();
        if ("devices".equals(parentTag(e)) && !DEVICES.contains(tag)) {
            return "the primary's domain XML has a <" + tag + "> device: no host passthrough is restored here";
        }
        if ("disk".equals(tag) && "devices".equals(parentTag(e)) && !nbdOverUnixSocket(e)) {
            return "the primary's domain XML has a <disk type='" + e.getAttribute("type") + "'>: a backup restores "
                    + "only a disk served by the daemon (NBD over its unix socket)";
        }
        if ("audio".equals(tag) && !"none".equals(e.getAttribute("type"))) {
            // libvirt 9 adds <audio type='none'/> to every definition; any other backend reaches the host.
            return "the primary's domain XML has an <audio type='" + e.getAttribute("type") + "'>: only type='none'";
        }
        if ("interface".equals(tag) && !"client".equals(e.getAttribute("type"))) {
            return "the primary's domain XML has an <interface type='" + e.getAttribute("type") + "'>: a backup "
                    + "restores only a NIC on the daemon's socket (type='client')";
        }
        if (PATH_ELEMENTS.contains(tag)) {
            String path = e.getTextContent().strip();
            boolean ok = "emulator".equals(tag) ? path.matches("/usr/bin/qemu-system-[a-z0-9_]+") : allowed(path);
            if (!ok) {
                return "the primary's domain XML names the host file " + path + " (<" + tag + ">), outside the "
                        + "daemon's directories " + allowedDirs;
            }
        }
        if ("rng".equals(tag)) {
            for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element b && "backend".equals(b.getTagName())
                        && !Set.of("/dev/urandom", "/dev/random", "").contains(b.getTextContent().strip())) {
                    return "the primary's domain XML has an <rng> backend " + b.getTextContent().strip();
                }
            }
        }
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element child) {
                String problem = problem(child, here.equals("<domain>") ? "" : here);
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    private static String parentTag(Element e) {
        return e.getParentNode() instanceof Element p ? p.getTagName() : "";
    }

    private static boolean nbdOverUnixSocket(Element disk) {
        if (!"network".equals(disk.getAttribute("type"))) {
            return false;
        }
        for (Node n = disk.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element source && "source".equals(source.getTagName())) {
                if (!"nbd".equals(source.getAttribute("protocol"))) {
                    return false;
                }
                for (Node h = source.getFirstChild(); h != null; h = h.getNextSibling()) {
                    if (h instanceof Element host && "host".equals(host.getTagName())
                            && !"unix".equals(host.getAttribute("transport"))) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }

    private boolean allowed(String path) {
        try {
            Path p = Path.of(path);
            if (!p.isAbsolute() || !p.normalize().equals(p)) {
                return false; // relative, or with .. in it
            }
            return allowedDirs.stream().anyMatch(p::startsWith);
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
