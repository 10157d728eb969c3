package io.checkpointd.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean" for misspelt keys and values. */
final class Suggestions {

    private Suggestions() {
    }

    /**
     * The candidate closest to {@code wrong}, if any is close enough to be a plausible typo. Names are
     * compared after {@link #normalize}, so {@code maxInFlight}, {@code max_in_flight} and
     * {@code interval-ns} find {@code max-in-flight} and {@code interval}.
     */
    static Optional<String> closest(String wrong, Collection<String> candidates) {
        String w = normalize(wrong);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            String c = normalize(candidate);
            int distance = distance(w, c);
            // A quarter of the name may be wrong: catches typos, not a different word of similar length.
            int allowed = Math.max(1, Math.max(w.length(), c.length()) / 4);
            if (distance <= allowed && distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Lower case, kebab-case, and without a unit suffix: record fields say {@code intervalNs} and
     * {@code ramBytes} where keys say {@code interval} and {@code ram}, and people add {@code -size}.
     */
    static String normalize(String name) {
        String kebab = name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").replace('_', '-').toLowerCase(Locale.ROOT);
        return kebab.replaceAll("-(ns|ms|bytes|size)$", "");
    }

    /** Optimal string alignment distance: edits, counting a swap of neighbours as one. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
