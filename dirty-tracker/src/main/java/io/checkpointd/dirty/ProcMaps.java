package io.checkpointd.dirty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The memory mappings of a process, parsed from {@code /proc/PID/maps}: used to find where a QEMU process
 * maps the guest's RAM file, the range {@link SoftDirtyTracker} watches.
 *
 * <p>Line format (proc(5)), one mapping per line, addresses and offset in hex:
 * <pre>
 * start-end        perms offset   dev   inode   path
 * 7f3a40000000-7f3a48000000 rw-s 00000000 fd:01 1311246   /var/lib/libvirt/qemu/ram/1-demo/pc.ram
 * </pre>
 * The path is everything after the inode and the spaces that pad it: it may contain spaces, may be empty
 * (anonymous memory), a pseudo-path such as {@code [heap]}, or end in {@code " (deleted)"}.
 */
public final class ProcMaps {
    private final List<Mapping> mappings;

    private ProcMaps(List<Mapping> mappings) {
        this.mappings = List.copyOf(mappings);
    }

    /** Reads {@code /proc/PID/maps}. */
    public static ProcMaps read(long pid) throws IOException {
        return read(Path.of("/proc", Long.toString(pid), "maps"));
    }

    /** Reads a maps file (or a copy of one). */
    public static ProcMaps read(Path mapsFile) throws IOException {
        try {
            return parse(Files.readString(mapsFile));
        } catch (IllegalArgumentException e) {
            throw new IOException(mapsFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the text of a maps file.
     *
     * @throws IllegalArgumentException naming the line number when a line is malformed
     */
    public static ProcMaps parse(String text) {
        List<Mapping> mappings = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            try {
                mappings.add(Mapping.parse(lines[i]));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage() + ": '" + lines[i] + "'", e);
            }
        }
        return new ProcMaps(mappings);
    }

    public List<Mapping> mappings() {
        return mappings;
    }

    /**
     * The range where {@code path} is mapped, as one mapping. The kernel splits a mapping into several
     * adjacent ones when parts of it get different flags (QEMU's {@code madvise} calls do that); those
     * are joined here when they are contiguous in both address and file offset.
     *
     * @return empty when nothing maps {@code path} (compared exactly: a deleted file's path ends in
     *     {@code " (deleted)"})
     * @throws IllegalStateException when the file is mapped at two separate places, so "the" mapping is
     *     ambiguous
     */
    public Optional<Mapping> findFile(String path) {
        Mapping joined = null;
        for (Mapping m : mappings) {
            if (!m.path().equals(path)) {
                continue;
            }
            if (joined == null) {
                joined = m;
            } else if (m.startAddress() == joined.endAddress()
                    && m.offsetBytes() == joined.offsetBytes() + joined.lengthBytes()) {
                joined = new Mapping(joined.startAddress(), m.endAddress(), joined.perms(), joined.offsetBytes(),
                        joined.device(), joined.inode(), path);
            } else {
                throw new IllegalStateException(path + " is mapped more than once: at " + joined + " and at " + m);
            }
        }
        return Optional.ofNullable(joined);
    }

    /**
     * One line of a maps file: {@code [startAddress, endAddress)} maps {@code path} from file offset
     * {@code offsetBytes}. Addresses are unsigned (the kernel's vsyscall page is above
     * {@link Long#MAX_VALUE}); compare them with {@link Long#compareUnsigned}.
     *
     * @param perms four characters: {@code r}, {@code w}, {@code x} or {@code -}, then {@code p} (private)
     *     or {@code s} (shared)
     * @param device {@code major:minor} in hex, as the kernel prints it
     */
    public record Mapping(long startAddress, long endAddress, String perms, long offsetBytes, String device, long inode,
            String path) {

        public long lengthBytes() {
            return endAddress - startAddress;
        }

        /** Whether writes reach the file (and other processes mapping it), as for QEMU's {@code share=on} RAM. */
        public boolean isShared() {
            return perms.charAt(3) == 's';
        }

        static Mapping parse(String line) {
            Fields fields = new Fields(line);
            String range = fields.next("address range");
            int dash = range.indexOf('-');
            if (dash < 0) {
                throw new IllegalArgumentException("address range has no '-'");
            }
            long start = Long.parseUnsignedLong(range, 0, dash, 16);
            long end = Long.parseUnsignedLong(range, dash + 1, range.length(), 16);
            if (Long.compareUnsigned(end, start) <= 0) {
                throw new IllegalArgumentException("empty address range");
            }
            String perms = fields.next("perms");
            if (perms.length() != 4) {
                throw new IllegalArgumentException("perms are not 4 characters");
            }
            long offset = Long.parseUnsignedLong(fields.next("offset"), 16);
            String device = fields.next("device");
            long inode = Long.parseUnsignedLong(fields.next("inode"));
            return new Mapping(start, end, perms, offset, device, inode, fields.rest());
        }

        @Override
        public String toString() {
            return Long.toHexString(startAddress) + "-" + Long.toHexString(endAddress) + " " + perms + " "
                    + Long.toHexString(offsetBytes) + " " + device + " " + inode + " " + path;
        }
    }

    /** Splits a line at runs of spaces, the last field being the rest of the line. */
    private static final class Fields {
        private final String line;
        private int position;

        Fields(String line) {
            this.line = line;
        }

        String next(String what) {
            skipSpaces();
            int end = line.indexOf(' ', position);
            if (end < 0) {
                end = line.length();
            }
            if (end == position) {
                throw new IllegalArgumentException("missing " + what);
            }
            String field = line.substring(position, end);
            position = end;
            return field;
        }

        String rest() {
            skipSpaces();
            return line.substring(position);
        }

        private void skipSpaces() {
            while (position < line.length() && line.charAt(position) == ' ') {
                position++;
            }
        }
    }
}
