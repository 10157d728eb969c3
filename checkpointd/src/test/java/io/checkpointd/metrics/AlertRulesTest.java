package io.checkpointd.metrics;

import static io.checkpointd.testing.PrometheusTools.PROMTOOL;
import static org.assertj.core.api.Assertions.assertThat;

import io.checkpointd.testing.PrometheusTools;
import io.checkpointd.testing.PrometheusTools.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** conf/prometheus/ as Prometheus's own tool reads it: rules valid, alerts firing when they should, config valid. */
class AlertRulesTest {
    private final Path dir = PrometheusTools.repoFile("conf/prometheus");

    @BeforeEach
    void needsPromtool(TestInfo test) {
        PrometheusTools.assumeInstalled(PROMTOOL, "AlertRulesTest." + test.getDisplayName());
    }

    @Test
    void alertRulesPassPromtoolCheck() throws Exception {
        Run run = PrometheusTools.run(dir, PROMTOOL.toString(), "check", "rules", "alerts.yml");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS: 5 rules found");
    }

    @Test
    void alertsFireWhenAndOnlyWhenTheirUnitTestsSay() throws Exception {
        Run run = PrometheusTools.run(dir, PROMTOOL.toString(), "test", "rules", "alerts_test.yml");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS");
    }

    @Test
    void exampleScrapeConfigIsValid() throws Exception {
        Run run = PrometheusTools.run(dir, PROMTOOL.toString(), "check", "config", "prometheus.yml");
        assertThat(run.exitCode()).as(run.output()).isZero();
    }
}
