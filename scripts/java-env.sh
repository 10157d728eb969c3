# Sourced by the launchers: sets JAVA_HOME to a JDK >= 25 and JVM_FLAGS, or exits with a clear error.
# Order: $JAVA_HOME if it is new enough, then every JDK under /usr/lib/jvm, then `java` on PATH.

checkpointd_java_major() { # prints the feature version of the java binary $1, or 0
    "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1 || echo 0
}

checkpointd_find_jdk() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
        local major
        major=$(checkpointd_java_major "$candidate/bin/java")
        if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! JAVA_HOME=$(checkpointd_find_jdk); then
    echo "checkpointd: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, and java on PATH)." >&2
    echo "checkpointd: install one (e.g. Temurin 25) or set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Netty uses sun.misc.Unsafe and lz4-java loads a JNI library: both warn on JDK 25 unless allowed.
JVM_FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
