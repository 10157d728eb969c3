package io.checkpointd.netbuffer.bridge;

import com.sun.jna.Native;

/** Errno values as an operator reads them: "Operation not permitted (EPERM)". */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EINVAL = 22;

    private Errno() {
    }

    /** The calling thread's errno from its last native call. */
    static int last() {
        return Native.getLastError();
    }

    /** The message and the symbolic name of {@code errno}. */
    static String describe(int errno) {
        return LinuxLibc.strerror(errno) + " (" + name(errno) + ")";
    }

    /** The symbolic name of the errno values a tap can produce; others as "errno N". */
    static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case LinuxLibc.EINTR -> "EINTR";
            case 5 -> "EIO";
            case ENXIO -> "ENXIO";
            case 9 -> "EBADF";
            case LinuxLibc.EAGAIN -> "EAGAIN";
            case 12 -> "ENOMEM";
            case EACCES -> "EACCES";
            case 14 -> "EFAULT";
            case EBUSY -> "EBUSY";
            case 17 -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case 23 -> "ENFILE";
            case 24 -> "EMFILE";
            case 25 -> "ENOTTY";
            case 77 -> "EBADFD";
            case 90 -> "EMSGSIZE";
            case 100 -> "ENETDOWN";
            case 105 -> "ENOBUFS";
            default -> "errno " + errno;
        };
    }
}
