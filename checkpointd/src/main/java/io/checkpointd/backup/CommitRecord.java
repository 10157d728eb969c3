package io.checkpointd.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * The backup's record of which checkpoint its replica holds, so a backup that dies mid-apply knows its
 * replica is torn instead of trusting it. Written atomically (temp file, then rename):
 * {@code state=applying} before the pages of an epoch are copied into the replica, {@code state=committed}
 * after, with the epoch, domain and RAM size.
 */
record CommitRecord(String state, long epoch, String domain, long ramBytes) {
    static final String APPLYING = "applying";
    static final String COMMITTED = "committed";
    /** The replica was handed to a restored guest and has been running since. */
    static final String RESTORED = "restored";

    boolean isCommitted() {
        return COMMITTED.equals(state);
    }

    void writeTo(Path file) throws IOException {
        String text = "# checkpointd backup commit record\nstate=" + state + "\nepoch=" + epoch + "\ndomain=" + domain
                + "\nram_bytes=" + ramBytes + "\n";
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The record in {@code file}, or null when there is none or it cannot be read as one. */
    static CommitRecord readFrom(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(in);
            return new CommitRecord(p.getProperty("state", ""), Long.parseLong(p.getProperty("epoch", "0")),
                    p.getProperty("domain", ""), Long.parseLong(p.getProperty("ram_bytes", "0")));
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }
}
