package io.checkpointd.netbuffer.bridge;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls a tap device needs, bound by JNA direct mapping (no JNI code of ours, and no
 * reflection per call: a frame costs a poll and a read). After a call returns -1 the errno is
 * {@link Native#getLastError()} on the same thread.
 *
 * <p>The constants are Linux's for x86-64 and aarch64 (asm-generic values, 64-bit {@code long}); other
 * architectures differ, which is why {@link TapDevice#open} checks {@link #SUPPORTED} first.
 */
final class LinuxLibc {
    /** True where the constants below are right: Linux on a 64-bit x86 or ARM. */
    static final boolean SUPPORTED = Platform.isLinux() && Platform.is64Bit()
            && (Platform.isIntel() || Platform.isARM());

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int EFD_NONBLOCK = O_NONBLOCK;
    static final int EFD_CLOEXEC = O_CLOEXEC;

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = O_CLOEXEC;

    /** {@code _IOW('T', 202, int)} */
    static final long TUNSETIFF = 0x400454caL;
    /** {@code _IOR('T', 210, unsigned int)} */
    static final long TUNGETIFF = 0x800454d2L;
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCSIFFLAGS = 0x8914;

    static final short IFF_UP = 0x1;
    static final short IFF_TAP = 0x0002;
    static final short IFF_PERSIST = 0x0800;
    static final short IFF_NO_PI = 0x1000;

    /** {@code struct ifreq}: the name, then a union that starts with {@code short ifr_flags}. */
    static final int IFNAMSIZ = 16;
    static final int IFREQ_FLAGS_OFFSET = IFNAMSIZ;
    static final int IFREQ_BYTES = 40;

    /** {@code struct pollfd { int fd; short events; short revents; }} */
    static final int POLLFD_BYTES = 8;
    static final int POLLFD_EVENTS_OFFSET = 4;
    static final int POLLFD_REVENTS_OFFSET = 6;
    static final short POLLIN = 0x1;
    static final short POLLNVAL = 0x20;

    static final int EINTR = 4;
    static final int EAGAIN = 11;

    static {
        if (SUPPORTED) {
            Native.register(LinuxLibc.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }
    }

    private LinuxLibc() {
    }

    static native int open(String path, int flags);

    static native int close(int fd);

    static native long read(int fd, Pointer buf, long countBytes);

    static native long write(int fd, Pointer buf, long countBytes);

    static native int ioctl(int fd, long request, Pointer arg);

    static native int poll(Pointer fds, long nfds, int timeoutMs);

    static native int eventfd(int initialValue, int flags);

    static native int socket(int domain, int type, int protocol);

    static native String strerror(int errno);
}
