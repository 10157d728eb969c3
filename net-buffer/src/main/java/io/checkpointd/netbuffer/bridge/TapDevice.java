package io.checkpointd.netbuffer.bridge;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Linux tap device, opened through {@code /dev/net/tun} as {@code IFF_TAP | IFF_NO_PI}: each
 * {@link #read} returns one Ethernet frame the host sent out of the device, each {@link #write} injects
 * one frame as if it had arrived on it. No packet-information header, no virtio-net header (so no GSO:
 * the kernel hands over frames no bigger than the MTU).
 *
 * <p>If a persistent tap of that name exists ({@code ip tuntap add dev NAME mode tap}), it is attached and
 * left in place on {@link #close()}; otherwise a new non-persistent tap is created, which the kernel
 * removes on close. Either way it is brought up (IFF_UP) in the caller's network namespace at open; a tap
 * later moved to another namespace is down there until brought up again, and its file descriptor keeps
 * working across the move.
 *
 * <p>Threads: one thread at a time may {@link #read} (it blocks); any thread may {@link #write}; any
 * thread may {@link #close()}, which wakes a blocked reader (an eventfd polled next to the tap) and
 * closes the descriptors only once no read or write is in progress, so a descriptor number is never used
 * after it could have been reused.
 */
public final class TapDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TapDevice.class);

    /**
     * The largest frame a tap carries: the largest MTU Linux allows a tap (65535) plus the Ethernet header
     * (14) and one VLAN tag (4). A buffer this big always holds a whole frame.
     */
    public static final int MAX_FRAME_BYTES = 65_535 + 14 + 4;
    /** The longest interface name Linux accepts: IFNAMSIZ less the terminating NUL. */
    public static final int MAX_NAME_CHARS = LinuxLibc.IFNAMSIZ - 1;

    private static final String TUN_PATH = "/dev/net/tun";
    private static final long WAKE_VALUE = 1;
    private static final int POLL_FOREVER = -1;

    private final String name;
    private final boolean persistent;
    private final int tapFd;
    /** Made readable by {@link #close()}; the reader polls it next to the tap. */
    private final int wakeFd;
    /** Two pollfds (tap, wake), used only by the one reading thread. */
    private final Memory pollFds = new Memory(2L * LinuxLibc.POLLFD_BYTES);
    /** Reads and writes hold the read lock; closing the descriptors takes the write lock. */
    private final ReadWriteLock inUse = new ReentrantReadWriteLock();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TapDevice(String name, boolean persistent, int tapFd, int wakeFd) {
        this.name = name;
        this.persistent = persistent;
        this.tapFd = tapFd;
        this.wakeFd = wakeFd;
        pollFds.setInt(0, tapFd);
        pollFds.setShort(LinuxLibc.POLLFD_EVENTS_OFFSET, LinuxLibc.POLLIN);
        pollFds.setInt(LinuxLibc.POLLFD_BYTES, wakeFd);
        pollFds.setShort(LinuxLibc.POLLFD_BYTES + LinuxLibc.POLLFD_EVENTS_OFFSET, LinuxLibc.POLLIN);
    }

    /**
     * Attaches to the persistent tap {@code name}, or creates a non-persistent one, and brings it up.
     * Needs CAP_NET_ADMIN (or a persistent tap created for this user with {@code ip tuntap ... user}).
     *
     * @param name 1 to 15 characters, no '/', ':' or whitespace; a {@code %d} in it lets the kernel pick
     *             the number (see {@link #name()})
     * @throws IllegalArgumentException if {@code name} is not a valid interface name
     * @throws IOException              naming the device, the step and the errno, with a hint when there
     *                                  is an obvious one
     */
    public static TapDevice open(String name) throws IOException {
        checkName(name);
        if (!LinuxLibc.SUPPORTED) {
            throw new IOException("cannot open tap '" + name + "': tap devices are supported on Linux x86-64 and "
                    + "aarch64 only, not " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        int fd = LinuxLibc.open(TUN_PATH, LinuxLibc.O_RDWR | LinuxLibc.O_NONBLOCK | LinuxLibc.O_CLOEXEC);
        if (fd < 0) {
            int errno = Errno.last();
            throw new IOException("cannot open tap '" + name + "': " + TUN_PATH + ": " + Errno.describe(errno)
                    + openHint(errno));
        }
        int wakeFd = -1;
        try {
            Memory ifr = ifreq(name);
            ifr.setShort(LinuxLibc.IFREQ_FLAGS_OFFSET, (short) (LinuxLibc.IFF_TAP | LinuxLibc.IFF_NO_PI));
            if (LinuxLibc.ioctl(fd, LinuxLibc.TUNSETIFF, ifr) < 0) {
                int errno = Errno.last();
                throw new IOException("cannot open tap '" + name + "': TUNSETIFF: " + Errno.describe(errno)
                        + attachHint(errno, name));
            }
            String actualName = ifr.getString(0, StandardCharsets.US_ASCII.name());
            if (LinuxLibc.ioctl(fd, LinuxLibc.TUNGETIFF, ifr) < 0) {
                throw new IOException("cannot open tap '" + actualName + "': TUNGETIFF: "
                        + Errno.describe(Errno.last()));
            }
            boolean persistent = (ifr.getShort(LinuxLibc.IFREQ_FLAGS_OFFSET) & LinuxLibc.IFF_PERSIST) != 0;
            wakeFd = LinuxLibc.eventfd(0, LinuxLibc.EFD_NONBLOCK | LinuxLibc.EFD_CLOEXEC);
            if (wakeFd < 0) {
                throw new IOException("cannot open tap '" + actualName + "': eventfd: " + Errno.describe(Errno.last()));
            }
            bringUp(actualName);
            LOG.info(persistent ? "attached to persistent tap '{}' (left in place on close)"
                    : "created tap '{}' (not persistent: removed on close)", actualName);
            return new TapDevice(actualName, persistent, fd, wakeFd);
        } catch (IOException | RuntimeException e) {
            LinuxLibc.close(fd);
            if (wakeFd >= 0) {
                LinuxLibc.close(wakeFd);
            }
            throw e;
        }
    }

    /** The interface name, as the kernel reports it. */
    public String name() {
        return name;
    }

    /** True if the tap existed as a persistent device and outlives this object. */
    public boolean persistent() {
        return persistent;
    }

    /**
     * Blocks until the host sends a frame out of the tap, and puts it at {@code dst}'s position.
     *
     * @param dst room for the frame: give it {@link #MAX_FRAME_BYTES} remaining; a frame that does not fit
     *            is lost (the kernel fails the read)
     * @return the frame's length in bytes ({@code dst}'s position advanced by it), or -1 once the device
     *         is closed (also when closed while blocked here)
     * @throws IOException if the read fails, e.g. the device was deleted underneath (EBADFD)
     */
    public int read(ByteBuffer dst) throws IOException {
        inUse.readLock().lock();
        try {
            if (closed.get()) {
                return -1;
            }
            return dst.isDirect() ? readInto(dst) : readViaCopy(dst);
        } finally {
            inUse.readLock().unlock();
        }
    }

    /**
     * Sends the bytes between {@code frame}'s position and limit into the host as one Ethernet frame, as
     * if it had arrived on the tap, and advances the position to the limit. Does not block.
     *
     * @throws ClosedChannelException if the device is closed
     * @throws IOException            if the kernel refuses the frame (e.g. EINVAL for one shorter than an
     *                                Ethernet header) or has no room for it (EAGAIN, ENOBUFS)
     */
    public void write(ByteBuffer frame) throws IOException {
        inUse.readLock().lock();
        try {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            int lengthBytes = frame.remaining();
            Pointer from;
            if (frame.isDirect()) {
                from = Native.getDirectBufferPointer(frame).share(frame.position());
            } else {
                Memory copy = new Memory(Math.max(lengthBytes, 1));
                copy.write(0, frame.array(), frame.arrayOffset() + frame.position(), lengthBytes);
                from = copy;
            }
            long written = LinuxLibc.write(tapFd, from, lengthBytes);
            if (written < 0) {
                throw new IOException("tap '" + name + "': write of " + lengthBytes + " bytes: "
                        + Errno.describe(Errno.last()));
            }
            if (written != lengthBytes) {
                throw new IOException("tap '" + name + "': wrote " + written + " of " + lengthBytes + " bytes");
            }
            frame.position(frame.limit());
        } finally {
            inUse.readLock().unlock();
        }
    }

    /**
     * Wakes a blocked reader, waits for reads and writes in progress to return, and closes the device.
     * A non-persistent tap disappears. Idempotent; any thread.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Memory one = new Memory(Long.BYTES);
        one.setLong(0, WAKE_VALUE);
        if (LinuxLibc.write(wakeFd, one, Long.BYTES) != Long.BYTES) {
            LOG.warn("tap '{}': could not wake its reader: {}", name, Errno.describe(Errno.last()));
        }
        inUse.writeLock().lock();
        try {
            LinuxLibc.close(tapFd);
            LinuxLibc.close(wakeFd);
        } finally {
            inUse.writeLock().unlock();
        }
        LOG.info(persistent ? "detached from persistent tap '{}'" : "closed tap '{}' (removed)", name);
    }

    @Override
    public String toString() {
        return "tap '" + name + "'";
    }

    private int readInto(ByteBuffer dst) throws IOException {
        Pointer to = Native.getDirectBufferPointer(dst).share(dst.position());
        while (true) {
            if (!awaitReadable()) {
                return -1;
            }
            long n = LinuxLibc.read(tapFd, to, dst.remaining());
            if (n >= 0) {
                dst.position(dst.position() + (int) n);
                return (int) n;
            }
            int errno = Errno.last();
            // The tap fd is non-blocking: poll can report readiness another reader (or a dropped frame)
            // has consumed by the time we read.
            if (errno != LinuxLibc.EAGAIN && errno != LinuxLibc.EINTR) {
                throw new IOException("tap '" + name + "': read: " + Errno.describe(errno));
            }
        }
    }

    private int readViaCopy(ByteBuffer dst) throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(dst.remaining());
        int n = readInto(direct);
        if (n > 0) {
            dst.put(direct.flip());
        }
        return n;
    }

    /** Polls the tap and the wake eventfd; false once {@link #close()} has signalled. */
    private boolean awaitReadable() throws IOException {
        while (true) {
            pollFds.setShort(LinuxLibc.POLLFD_REVENTS_OFFSET, (short) 0);
            pollFds.setShort(LinuxLibc.POLLFD_BYTES + LinuxLibc.POLLFD_REVENTS_OFFSET, (short) 0);
            int ready = LinuxLibc.poll(pollFds, 2, POLL_FOREVER);
            if (ready < 0) {
                int errno = Errno.last();
                if (errno == LinuxLibc.EINTR) {
                    continue;
                }
                throw new IOException("tap '" + name + "': poll: " + Errno.describe(errno));
            }
            if (pollFds.getShort(LinuxLibc.POLLFD_BYTES + LinuxLibc.POLLFD_REVENTS_OFFSET) != 0) {
                return false;
            }
            short tapEvents = pollFds.getShort(LinuxLibc.POLLFD_REVENTS_OFFSET);
            if ((tapEvents & LinuxLibc.POLLNVAL) != 0) {
                throw new IOException("tap '" + name + "': poll: descriptor no longer valid");
            }
            // POLLERR or POLLHUP (device deleted) also count as ready: the read then reports the error.
            if (tapEvents != 0) {
                return true;
            }
        }
    }

    private static void bringUp(String name) throws IOException {
        int sock = LinuxLibc.socket(LinuxLibc.AF_INET, LinuxLibc.SOCK_DGRAM | LinuxLibc.SOCK_CLOEXEC, 0);
        if (sock < 0) {
            throw new IOException("cannot bring tap '" + name + "' up: socket: " + Errno.describe(Errno.last()));
        }
        try {
            Memory ifr = ifreq(name);
            if (LinuxLibc.ioctl(sock, LinuxLibc.SIOCGIFFLAGS, ifr) < 0) {
                throw new IOException("cannot bring tap '" + name + "' up: SIOCGIFFLAGS: "
                        + Errno.describe(Errno.last()));
            }
            short flags = ifr.getShort(LinuxLibc.IFREQ_FLAGS_OFFSET);
            if ((flags & LinuxLibc.IFF_UP) != 0) {
                return;
            }
            ifr.setShort(LinuxLibc.IFREQ_FLAGS_OFFSET, (short) (flags | LinuxLibc.IFF_UP));
            if (LinuxLibc.ioctl(sock, LinuxLibc.SIOCSIFFLAGS, ifr) < 0) {
                int errno = Errno.last();
                throw new IOException("cannot bring tap '" + name + "' up: SIOCSIFFLAGS: " + Errno.describe(errno)
                        + (errno == Errno.EPERM ? ": grant CAP_NET_ADMIN, or bring it up beforehand with "
                        + "'ip link set " + name + " up'" : ""));
            }
        } finally {
            LinuxLibc.close(sock);
        }
    }

    private static Memory ifreq(String name) {
        Memory ifr = new Memory(LinuxLibc.IFREQ_BYTES);
        ifr.clear();
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        ifr.write(0, bytes, 0, bytes.length);
        return ifr;
    }

    /** The kernel's rules for an interface name (dev_valid_name), restricted to printable ASCII. */
    static void checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_CHARS) {
            throw new IllegalArgumentException("tap name must be 1 to " + MAX_NAME_CHARS + " characters: '"
                    + name + "'");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("tap name cannot be '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c > '~' || c == '/' || c == ':') {
                throw new IllegalArgumentException("tap name '" + name
                        + "' may not contain '/', ':', whitespace or non-ASCII characters");
            }
        }
    }

    private static String openHint(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> ": run as root or grant CAP_NET_ADMIN";
            case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> ": the tun driver is missing (modprobe tun)";
            default -> "";
        };
    }

    private static String attachHint(int errno, String name) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> ": run as root or grant CAP_NET_ADMIN, or create it beforehand "
                    + "with 'ip tuntap add dev " + name + " mode tap user USER'";
            case Errno.EBUSY -> ": another process has it open";
            case Errno.EINVAL -> ": a device of that name exists but is not a single-queue tap "
                    + "(see 'ip -d link show " + name + "')";
            default -> "";
        };
    }
}
