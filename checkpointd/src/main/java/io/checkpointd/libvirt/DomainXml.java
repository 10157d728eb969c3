package io.checkpointd.libvirt;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * A libvirt domain's XML, read for what checkpointd needs and rewritten for a restore on the backup.
 *
 * <p>A protectable domain has (see conf/libvirt/protected-domain.xml):
 * <ul>
 *   <li>RAM in a shared file: {@code <memoryBacking><source type='file'/><access mode='shared'/>}, so the
 *       daemon can map it and a device-only migration ({@code x-ignore-shared}) skips it;</li>
 *   <li>exactly one NIC, {@code <interface type='client'>} to a loopback port: QEMU connects there, to the
 *       daemon's frame bridge, which holds its output per epoch;</li>
 *   <li>disks only of the kind {@code <disk type='network'><source protocol='nbd'>} over a unix socket (at
 *       most one: disk-mirror's server), or none; any other disk would change without being mirrored.</li>
 * </ul>
 */
public final class DomainXml {
    static final String QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";
    /**
     * On the primary and the backup alike: the device state the primary saves with
     * {@code xen-save-devices-state} has no configuration section, and a QEMU loading it must not expect one.
     */
    static final String[] NO_CONFIGURATION_SECTION = {"-global", "migration.send-configuration=off"};

    /** The guest's NIC: its MAC and the loopback port QEMU connects to. */
    public record Nic(String mac, String address, int port) {
    }

    /** The guest's disk: an NBD export on a unix socket. */
    public record NbdDisk(String export, Path socket) {
    }

    private final Document document;
    private final String source;

    private DomainXml(Document document, String source) {
        this.document = document;
        this.source = source;
    }

    /** @param source what the XML is, for messages (e.g. "domain 'web1'") */
    public static DomainXml parse(String xml, String source) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document document = factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
            if (!"domain".equals(document.getDocumentElement().getLocalName())) {
                throw new IllegalArgumentException(source + ": not a libvirt domain XML (root element <"
                        + document.getDocumentElement().getTagName() + ">)");
            }
            return new DomainXml(document, source);
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException(source + ": unreadable domain XML: " + e.getMessage(), e);
        }
    }

    public String name() {
        return text(root(), "name");
    }

    /** The hypervisor type: {@code kvm} or {@code qemu} (TCG). */
    public String type() {
        return root().getAttribute("type");
    }

    /** {@code <memory>} in bytes. */
    public long memoryBytes() {
        Element memory = child(root(), "memory");
        if (memory == null) {
            return 0;
        }
        long value = Long.parseLong(memory.getTextContent().strip());
        String unit = memory.getAttribute("unit").isEmpty() ? "KiB" : memory.getAttribute("unit");
        return value * switch (unit.toLowerCase(Locale.ROOT)) {
            case "b", "bytes" -> 1L;
            case "k", "kib" -> 1L << 10;
            case "m", "mib" -> 1L << 20;
            case "g", "gib" -> 1L << 30;
            case "kb" -> 1000L;
            case "mb" -> 1000_000L;
            case "gb" -> 1000_000_000L;
            default -> throw new IllegalArgumentException(source + ": <memory unit='" + unit + "'> is not understood");
        };
    }

    /** What stands between this domain and protection, one line each; empty when it can be protected. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        Element backing = child(root(), "memoryBacking");
        Element backingSource = backing == null ? null : child(backing, "source");
        Element access = backing == null ? null : child(backing, "access");
        if (backingSource == null || !"file".equals(backingSource.getAttribute("type"))
                || access == null || !"shared".equals(access.getAttribute("mode"))) {
            problems.add("RAM is not in a shared file: add <memoryBacking><source type='file'/>"
                    + "<access mode='shared'/></memoryBacking> (the daemon maps guest RAM from that file)");
        }
        List<Element> nics = children(child(root(), "devices"), "interface");
        if (nics.size() != 1) {
            problems.add("has " + nics.size() + " network interfaces; exactly one is supported: "
                    + "<interface type='client'><source address='127.0.0.1' port='N'/><model type='virtio'/>"
                    + "</interface>");
        } else {
            Element nic = nics.getFirst();
            Element src = child(nic, "source");
            if (!"client".equals(nic.getAttribute("type")) || src == null || src.getAttribute("port").isEmpty()) {
                problems.add("the network interface is type='" + nic.getAttribute("type") + "', not a connection to "
                        + "the daemon: write <interface type='client'><source address='127.0.0.1' port='N'/>");
            } else if (!isLoopback(src.getAttribute("address"))) {
                problems.add("the network interface connects to " + src.getAttribute("address")
                        + "; the daemon's frame bridge listens on 127.0.0.1");
            }
            if (child(nic, "mac") == null) {
                problems.add("the network interface has no <mac address='...'/>: the guest's MAC must be fixed, "
                        + "so the restored guest keeps it");
            }
        }
        List<Element> disks = children(child(root(), "devices"), "disk");
        int nbd = 0;
        for (Element disk : disks) {
            if ("cdrom".equals(disk.getAttribute("device")) || "floppy".equals(disk.getAttribute("device"))) {
                continue;
            }
            Element src = child(disk, "source");
            Element host = src == null ? null : child(src, "host");
            Element target = child(disk, "target");
            String dev = target == null ? "?" : target.getAttribute("dev");
            if (!"network".equals(disk.getAttribute("type")) || src == null || !"nbd".equals(src.getAttribute("protocol"))
                    || host == null || !"unix".equals(host.getAttribute("transport"))) {
                problems.add("disk " + dev + " is not served by disk-mirror, so its writes would not be mirrored: "
                        + "write <disk type='network'><source protocol='nbd' name='EXPORT'><host transport='unix' "
                        + "socket='PATH'/></source>");
            } else {
                nbd++;
            }
        }
        if (nbd > 1) {
            problems.add("has " + nbd + " NBD disks; one is supported");
        }
        return problems;
    }

    /** Throws naming every problem at once, so an operator fixes the XML in one go. */
    public DomainXml requireProtectable() {
        List<String> problems = problems();
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + " cannot be protected:\n  - " + String.join("\n  - ", problems));
        }
        return this;
    }

    public Nic nic() {
        Element nic = children(child(root(), "devices"), "interface").getFirst();
        Element src = child(nic, "source");
        return new Nic(child(nic, "mac").getAttribute("address").toLowerCase(Locale.ROOT), src.getAttribute("address"),
                Integer.parseInt(src.getAttribute("port")));
    }

    public Optional<NbdDisk> nbdDisk() {
        return nbdDiskElement().map(disk -> {
            Element src = child(disk, "source");
            return new NbdDisk(src.getAttribute("name"), Path.of(child(src, "host").getAttribute("socket")));
        });
    }

    /**
     * The XML a backup starts the restored guest from: its own name (none of the primary's identity but the
     * MAC), the NIC connected to the backup's bridge, the disk to the backup's NBD server, QEMU told to
     * wait for the device state ({@code -incoming defer}), and the daemon's own QMP monitor at
     * {@code qmpSocket}. The primary's RAM file path is libvirt's to pick.
     */
    public String forRestore(String name, int nicPort, Path nbdSocket, Path qmpSocket) {
        Document copy = (Document) document.cloneNode(true);
        Element root = copy.getDocumentElement();
        child(root, "name").setTextContent(name);
        Element uuid = child(root, "uuid");
        if (uuid != null) {
            root.removeChild(uuid);
        }
        Element nic = children(child(root, "devices"), "interface").getFirst();
        child(nic, "source").setAttribute("port", Integer.toString(nicPort));
        if (!name.equals(name())) {
            // Under another name on the same host: a console log file can have one writer only.
            for (String kind : List.of("serial", "console")) {
                for (Element device : children(child(root, "devices"), kind)) {
                    Element src = child(device, "source");
                    if ("file".equals(device.getAttribute("type")) && src != null && !src.getAttribute("path").isEmpty()) {
                        src.setAttribute("path", src.getAttribute("path") + "." + name);
                    }
                }
            }
        }
        if (nbdSocket != null) {
            for (Element disk : children(child(root, "devices"), "disk")) {
                Element src = child(disk, "source");
                if (src != null && "nbd".equals(src.getAttribute("protocol"))) {
                    child(src, "host").setAttribute("socket", nbdSocket.toString());
                }
            }
        }
        addQemuArgs(copy, "-incoming", "defer", "-qmp", "unix:" + qmpSocket + ",server=on,wait=off");
        addQemuArgs(copy, NO_CONFIGURATION_SECTION);
        return serialize(copy);
    }

    /**
     * The XML the primary starts the protected domain from: the operator's definition plus a second QMP
     * monitor, the daemon's own, that QEMU listens on at {@code socket} ({@code wait=off}: QEMU does not
     * wait for the daemon to connect). libvirt keeps its own monitor; the definition is left unchanged.
     */
    public String withQmpSocket(Path socket) {
        Document copy = (Document) document.cloneNode(true);
        addQemuArgs(copy, "-qmp", "unix:" + socket + ",server=on,wait=off");
        addQemuArgs(copy, NO_CONFIGURATION_SECTION);
        return serialize(copy);
    }

    /** Appends QEMU arguments to {@code <qemu:commandline>}, made (with its namespace) when missing. */
    private static void addQemuArgs(Document copy, String... values) {
        Element root = copy.getDocumentElement();
        Element commandline = null;
        for (Element e : children(root, null)) {
            if (QEMU_NS.equals(e.getNamespaceURI()) && "commandline".equals(e.getLocalName())) {
                commandline = e;
            }
        }
        if (commandline == null) {
            root.setAttributeNS(XMLConstants.XMLNS_ATTRIBUTE_NS_URI, "xmlns:qemu", QEMU_NS);
            commandline = copy.createElementNS(QEMU_NS, "qemu:commandline");
            root.appendChild(commandline);
        }
        for (String value : values) {
            Element arg = copy.createElementNS(QEMU_NS, "qemu:arg");
            arg.setAttribute("value", value);
            commandline.appendChild(arg);
        }
    }

    /** A copy that runs under {@code type}: {@code kvm}, or {@code qemu} (TCG). */
    public DomainXml withType(String type) {
        if (!type.equals("kvm") && !type.equals("qemu")) {
            throw new IllegalArgumentException("domain type '" + type + "' is neither kvm nor qemu");
        }
        Document copy = (Document) document.cloneNode(true);
        copy.getDocumentElement().setAttribute("type", type);
        return new DomainXml(copy, source);
    }

    public String toXml() {
        return serialize(document);
    }

    private Optional<Element> nbdDiskElement() {
        for (Element disk : children(child(root(), "devices"), "disk")) {
            Element src = child(disk, "source");
            if ("network".equals(disk.getAttribute("type")) && src != null && "nbd".equals(src.getAttribute("protocol"))
                    && child(src, "host") != null) {
                return Optional.of(disk);
            }
        }
        return Optional.empty();
    }

    /** The parsed definition; read-only by convention (also for {@link PeerDomainPolicy}). */
    Element root() {
        return document.getDocumentElement();
    }

    private static boolean isLoopback(String address) {
        return address.equals("127.0.0.1") || address.equals("localhost") || address.equals("::1");
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent().strip();
    }

    private static Element child(Element parent, String name) {
        List<Element> found = children(parent, name);
        return found.isEmpty() ? null : found.getFirst();
    }

    /** Element children of {@code parent} with local name {@code name} (any, when null). */
    private static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        if (parent == null) {
            return found;
        }
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            if (node instanceof Element e && (name == null || name.equals(localName(e)))) {
                found.add(e);
            }
        }
        return found;
    }

    private static String localName(Element e) {
        return e.getLocalName() == null ? e.getTagName() : e.getLocalName();
    }

    private static String serialize(Document document) {
        try {
            var transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(document), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("cannot write domain XML", e);
        }
    }
}
