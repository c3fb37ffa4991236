//! Everything the job detail view shows about one job, fetched on demand (UI-free). The
//! values of sensitive configuration keys are hidden here, before anything shows them.

use crate::flink::model::{CheckpointStats, JobConfig, JobDetail, JobExceptions};
use crate::flink::{FlinkClient, FlinkError};
use crate::secrets;
use crate::store::journal::Operation;
use crate::store::{SharedStore, Transition};

/// One job's vertices, exceptions, checkpoints, configuration and cached state timeline.
/// Each part fails on its own: a job whose checkpoints cannot be read still shows the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInsight {
    pub cluster: String,
    pub jid: String,
    pub fetched_at_ms: i64,
    pub detail: Result<JobDetail, FlinkError>,
    pub exceptions: Result<JobExceptions, FlinkError>,
    pub checkpoints: Result<CheckpointStats, FlinkError>,
    pub config: Result<JobConfig, FlinkError>,
    pub timeline: Vec<Transition>,
    /// flinkdeck's operations on this job (journal), newest first.
    pub operations: Vec<Operation>,
}

/// Fetches the four REST views concurrently, and the timeline and journal from the store.
pub async fn fetch(
    client: &FlinkClient,
    cluster: String,
    jid: String,
    store: Option<&SharedStore>,
) -> JobInsight {
    let (detail, exceptions, checkpoints, config) = tokio::join!(
        client.job_detail(&jid),
        client.job_exceptions(&jid),
        client.job_checkpoints(&jid),
        client.job_config(&jid),
    );
    let (timeline, operations) = match store {
        Some(store) => {
            let (c, j) = (cluster.clone(), jid.clone());
            store
                .with(move |s| Ok((s.transitions(&c, &j)?, s.history(Some(&j), 20)?)))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!("reading the history of {jid}: {e}");
                    Default::default()
                })
        }
        None => Default::default(),
    };
    JobInsight {
        cluster,
        jid,
        fetched_at_ms: crate::fleet::now_ms(),
        detail,
        exceptions,
        checkpoints,
        config: config.map(masked),
        timeline,
        operations,
    }
}

/// The job's configuration with the values of sensitive keys hidden: Flink masks its own
/// cluster configuration, not the job's `user-config` (`user-config.KEY` is what is judged).
fn masked(mut config: JobConfig) -> JobConfig {
    let hidden = || serde_json::Value::from(secrets::HIDDEN);
    for (key, value) in config.execution_config.iter_mut().flatten() {
        match value {
            serde_json::Value::Object(inner) => {
                for (inner_key, inner_value) in inner.iter_mut() {
                    if secrets::is_sensitive_key(&format!("{key}.{inner_key}")) {
                        *inner_value = hidden();
                    }
                }
            }
            other if secrets::is_sensitive_key(key) => *other = hidden(),
            _ => {}
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_job_configuration_is_hidden() {
        let config: JobConfig = serde_json::from_str(
            r#"{"execution-config": {"job-parallelism": 2, "sasl.jaas.config": "x",
                "user-config": {"db.password": "hunter2", "db.user": "scott", "api.token": 7}}}"#,
        )
        .unwrap();
        let entries = masked(config).entries();
        let value = |key: &str| entries.iter().find(|(k, _)| k == key).unwrap().1.clone();
        assert_eq!(value("user-config.db.password"), secrets::HIDDEN);
        assert_eq!(value("user-config.api.token"), secrets::HIDDEN);
        assert_eq!(value("sasl.jaas.config"), secrets::HIDDEN);
        assert_eq!(value("user-config.db.user"), "scott");
        assert_eq!(value("job-parallelism"), "2");
    }
}
