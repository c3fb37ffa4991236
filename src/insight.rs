//! Everything the job detail view shows about one job, fetched on demand (UI-free).

use crate::flink::model::{CheckpointStats, JobConfig, JobDetail, JobExceptions};
use crate::flink::{FlinkClient, FlinkError};
use crate::store::{StoreService, Transition};

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
}

/// Fetches the four REST views concurrently and the timeline from the cache, if there is one.
pub async fn fetch(
    client: &FlinkClient,
    cluster: String,
    jid: String,
    cache: Option<&StoreService>,
) -> JobInsight {
    let (detail, exceptions, checkpoints, config) = tokio::join!(
        client.job_detail(&jid),
        client.job_exceptions(&jid),
        client.job_checkpoints(&jid),
        client.job_config(&jid),
    );
    let timeline = match cache {
        Some(cache) => cache.transitions(&cluster, &jid).await,
        None => Vec::new(),
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
    }
}
