package io.checkpointd.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The rules that hold the daemon's shape (issue 14), checked on its compiled classes and those of the
 * libraries it is built from (dirty-tracker, net-buffer, disk-mirror, failure-detector). The harness
 * module (bench/: benchmarks, experiments, the demo and test tools) checks its own side in its
 * {@code HarnessArchitectureTest}.
 */
class ArchitectureTest {
    /** Where each driver lives; only the command line (the composition root) may name one. */
    private static final String[] DRIVERS = {"io.checkpointd.sim..", "io.checkpointd.libvirt.."};
    /** The harness's packages: nothing the daemon ships may use them. */
    private static final String[] HARNESS = {"io.checkpointd.tools..", "io.checkpointd.bench..",
            "io.checkpointd.experiments.."};

    private static final JavaClasses DAEMON = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.checkpointd");

    /** The primary, the backup, replication, metrics and the launch context know drivers only by the seam. */
    static final ArchRule CORE_IMPORTS_NO_DRIVER = noClasses()
            .that().resideOutsideOfPackages("io.checkpointd.cli..", "io.checkpointd.sim..", "io.checkpointd.libvirt..")
            .should().dependOnClassesThat().resideInAnyPackage(DRIVERS)
            .as("no core package imports a driver (only cli/ names one; the rest see io.checkpointd.driver)");

    /** One driver never reaches into another. */
    static final ArchRule DRIVERS_ARE_APART = noClasses()
            .that().resideInAPackage("io.checkpointd.sim..")
            .should().dependOnClassesThat().resideInAPackage("io.checkpointd.libvirt..")
            .as("the sim driver does not use the libvirt driver");

    static final ArchRule DAEMON_IMPORTS_NO_TOOLS = noClasses()
            .should().dependOnClassesThat().resideInAnyPackage(HARNESS)
            .orShould().resideInAnyPackage(HARNESS)
            .as("nothing in the daemon imports the tools (demo, kv-client, guest-log, e2e, benchmarks), "
                    + "and none of their packages is in it");

    static final ArchRule NO_PACKAGE_CYCLES = slices().matching("io.checkpointd.(*)..")
            .should().beFreeOfCycles()
            .as("no cycles between packages");

    @Test
    void noCorePackageImportsADriver() {
        CORE_IMPORTS_NO_DRIVER.check(DAEMON);
        DRIVERS_ARE_APART.check(DAEMON);
    }

    @Test
    void nothingInTheDaemonImportsTheTools() {
        DAEMON_IMPORTS_NO_TOOLS.check(DAEMON);
    }

    @Test
    void noCyclesBetweenPackages() {
        NO_PACKAGE_CYCLES.check(DAEMON);
    }
}
