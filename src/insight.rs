//! Everything the job detail view shows about one job, fetched on demand (UI-free).

use crate::flink::model::{CheckpointStats, JobConfig, JobDetail, JobExceptions};
use crate::flink::{FlinkClient, FlinkError};
use crate::ops::model::Operation;
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
        config,
        timeline,
        operations,
    }
}
