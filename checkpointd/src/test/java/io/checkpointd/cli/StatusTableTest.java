package io.checkpointd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The rendering of {@code checkpointd status} for states a running pair does not reach in a quick test. */
class StatusTableTest {

    @Test
    void aFailedOverBackupSaysWhatTheFailoverDid() throws Exception {
        String json = """
                {"role": "backup", "pid": 7, "domains": [{"domain": "pbx", "role": "backup", "state": "failed-over",
                 "last_committed_epoch": 81, "lag_checkpoints": null, "peer": "primary", "peer_state": "dead",
                 "protected": false, "output_commit": null, "pause_ms": null, "ack_ms": null,
                 "failover": {"resumed_epoch": 81, "detected_after_ms": 1003.2, "restore_ms": 125.4}}]}
                """;
        assertThat(StatusCommand.table(Daemons.JSON.readTree(json))).isEqualTo("""
                checkpointd backup, pid 7

                DOMAIN  ROLE    STATE        EPOCH  LAG  PEER          PROTECTED  STANDBY  PAUSE p50/p99 ms  ACK p50/p99 ms
                pbx     backup  failed-over  81     -    primary dead  NO         -        -                 -

                pbx failed over to this host: resumed epoch 81, primary declared dead after 1003 ms, restored in 125 ms
                """);
    }

    @Test
    void aPrimaryShowsWhetherItsBackupsStandbyIsReady() throws Exception {
        String row = """
                {"domain": "pbx", "role": "primary", "state": "protected", "last_committed_epoch": 9,
                 "lag_checkpoints": 1, "peer": "backup", "peer_state": "alive", "protected": true,
                 "output_commit": true, "pause_ms": null, "ack_ms": null, "failover": null, "standby_ready": %s}
                """;
        String ready = StatusCommand.table(Daemons.JSON.readTree(
                "{\"role\": \"primary\", \"pid\": 7, \"domains\": [" + row.formatted("true") + "]}"));
        String notReady = StatusCommand.table(Daemons.JSON.readTree(
                "{\"role\": \"primary\", \"pid\": 7, \"domains\": [" + row.formatted("false") + "]}"));
        assertThat(ready).containsPattern("pbx +primary +protected +9 +1 +backup alive +yes +ready +- +-");
        assertThat(notReady).containsPattern("pbx +primary +protected +9 +1 +backup alive +yes +NO +- +-");
    }

    @Test
    void aBackupWithoutPrimariesSaysSo() throws Exception {
        assertThat(StatusCommand.table(Daemons.JSON.readTree("{\"role\": \"backup\", \"pid\": 7, \"domains\": []}")))
                .isEqualTo("checkpointd backup, pid 7\n\nno domains yet (a backup lists a domain once its primary has"
                        + " connected)\n");
    }
}
