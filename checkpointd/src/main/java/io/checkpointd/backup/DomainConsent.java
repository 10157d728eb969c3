package io.checkpointd.backup;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The domains a backup's operator agreed to host ({@code backup.domains}), each with the primaries allowed
 * to protect it, named as in their TLS certificates. Asked at HELLO, before anything is created: a domain
 * not named here, or a primary not allowed for it, is refused with a reason that says how to allow it.
 * Without TLS (plain TCP, loopback only) a primary has no proven name, so only the domain is checked.
 */
public final class DomainConsent {
    private final Map<String, List<String>> domains;

    public DomainConsent(Map<String, List<String>> domains) {
        this.domains = new TreeMap<>(domains);
    }

    /**
     * Why {@code domain} may not be replicated here by a primary with these certificate names, or null when
     * it may.
     *
     * @param authenticated whether the connection is TLS, so that {@code peerNames} were proven
     */
    public String refusal(String domain, List<String> peerNames, boolean authenticated) {
        List<String> allowed = domains.get(domain);
        if (allowed == null) {
            return "this backup does not host domain '" + domain + "'"
                    + (domains.isEmpty() ? " (it hosts none yet)" : " (it hosts " + domains.keySet() + ")")
                    + ": its operator must name it under backup.domains with the primaries allowed to protect it, "
                    + "e.g. 'domains: {" + domain + ": [primary]}', or start the backup with --allow " + domain
                    + "=primary";
        }
        if (authenticated && allowed.stream().noneMatch(peerNames::contains)) {
            return "a primary whose certificate names " + peerNames + " is not allowed for domain '" + domain
                    + "' (backup.domains allows " + allowed + ")";
        }
        return null;
    }

    public boolean isEmpty() {
        return domains.isEmpty();
    }
}
