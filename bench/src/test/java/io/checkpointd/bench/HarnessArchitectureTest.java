package io.checkpointd.bench;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The harness's side of the daemon's shape (issue 14): the benchmarks, experiments, demo and test tools
 * reach the daemon through its public seams, so none of their classes sits in a daemon package (where it
 * could use package-private code). The daemon's own rules are in checkpointd's {@code ArchitectureTest}.
 */
class HarnessArchitectureTest {
    /** This module's compiled main classes only (not the daemon's jar on the class path). */
    private static final JavaClasses HARNESS = new ClassFileImporter()
            .importPath(Path.of("target", "classes"));

    static final ArchRule ONLY_HARNESS_PACKAGES = classes()
            .should().resideInAnyPackage("io.checkpointd.bench..", "io.checkpointd.tools..",
                    "io.checkpointd.experiments..")
            .as("no class of the harness sits in a daemon package");

    @Test
    void noHarnessClassSitsInADaemonPackage() {
        ONLY_HARNESS_PACKAGES.check(HARNESS);
    }
}
