//! The one-key jump from a job to the log that explains it: for a failing job, the log of
//! the TaskManager named in its newest exception, at that exception; for a healthy job, the
//! JobManager log, narrowed to lines about the job.

use super::parse::LogRecord;
use super::source::LogTarget;
use crate::flink::model::{ExceptionEntry, JobState};
use crate::flink::{FlinkClient, FlinkError};

/// Where to look in the log once it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The record that carries this exception text (its first stack-trace line).
    Exception { text: String, timestamp_ms: i64 },
    /// Records that mention this job id.
    JobId(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpPlan {
    pub target: LogTarget,
    pub anchor: Anchor,
    /// Why this log, for the title ("newest exception on taskmanager …").
    pub reason: String,
}

/// The plan for one exception entry: its TaskManager (its own or a concurrent one's), at
/// its own exception text. A global failure (no TaskManager) points at the JobManager.
pub fn plan_for_entry(entry: &ExceptionEntry) -> JumpPlan {
    // The terminal entry ("Recovery is suppressed") wraps the task's failure; the task's own
    // exception is what the TaskManager logged.
    let concurrent = entry.concurrent_exceptions.iter().find(|c| c.task_manager_id.is_some());
    let (source, text_entry) = match (&entry.task_manager_id, concurrent) {
        (Some(_), _) | (None, None) => (entry, entry),
        (None, Some(c)) => (c, c),
    };
    let text = text_entry
        .stacktrace
        .lines()
        .next()
        .unwrap_or(&text_entry.exception_name)
        .trim()
        .to_string();
    match &source.task_manager_id {
        Some(tm) => JumpPlan {
            target: LogTarget::TaskManager(tm.clone()),
            anchor: Anchor::Exception { text, timestamp_ms: text_entry.timestamp },
            reason: format!("exception on taskmanager {tm}"),
        },
        None => JumpPlan {
            target: LogTarget::JobManager,
            anchor: Anchor::Exception { text, timestamp_ms: text_entry.timestamp },
            reason: "global failure (no taskmanager)".into(),
        },
    }
}

/// The plan for a job: its newest exception if it is failing, failed or restarting (or has
/// exceptions while not running), else its lines in the JobManager log.
pub async fn plan(
    client: &FlinkClient,
    jid: &str,
    state: &JobState,
) -> Result<JumpPlan, FlinkError> {
    let troubled = matches!(state, JobState::Failed | JobState::Failing | JobState::Restarting);
    if troubled {
        let exceptions = client.job_exceptions(jid).await?;
        if let Some(newest) = exceptions.exception_history.entries.first() {
            return Ok(plan_for_entry(newest));
        }
    }
    Ok(JumpPlan {
        target: LogTarget::JobManager,
        anchor: Anchor::JobId(jid.to_string()),
        reason: format!("jobmanager lines about {jid}"),
    })
}

/// The record the anchor points at: the last one carrying the exception text, else the
/// last one mentioning the job.
pub fn locate(records: &[LogRecord], anchor: &Anchor) -> Option<usize> {
    match anchor {
        Anchor::Exception { text, .. } => records.iter().rposition(|r| r.contains(text)),
        Anchor::JobId(jid) => records.iter().rposition(|r| r.contains(jid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flink::model::JobExceptions;
    use crate::logs::parse::parse_records;

    #[test]
    fn a_terminal_failure_points_at_the_concurrent_task_manager() {
        let exceptions: JobExceptions =
            serde_json::from_str(include_str!("../../tests/fixtures/exceptions_2_3_failed.json"))
                .unwrap();
        let plan = plan_for_entry(&exceptions.exception_history.entries[0]);
        let LogTarget::TaskManager(tm) = &plan.target else { panic!("{plan:?}") };
        assert!(tm.starts_with("localhost:"), "{tm}");
        let Anchor::Exception { text, .. } = &plan.anchor else { panic!() };
        assert!(
            text.starts_with("java.lang.RuntimeException: flinkdeck sample: injected failure"),
            "{text}"
        );
    }

    #[test]
    fn locate_finds_the_record_with_the_stack_trace() {
        let log = b"2026-11-21 11:30:01,747 INFO  a [] - ok\n\
2026-11-21 11:30:02,001 WARN  b [] - Task switched to FAILED with failure cause:\n\
java.lang.RuntimeException: boom\n\tat x\n\
2026-11-21 11:30:03,000 INFO  c [] - job 0123abcd is RUNNING\n";
        let records = parse_records(log, 0);
        let at =
            Anchor::Exception { text: "java.lang.RuntimeException: boom".into(), timestamp_ms: 0 };
        assert_eq!(locate(&records, &at), Some(1));
        assert_eq!(locate(&records, &Anchor::JobId("0123abcd".into())), Some(2));
        assert_eq!(locate(&records, &Anchor::JobId("nope".into())), None);
    }
}
