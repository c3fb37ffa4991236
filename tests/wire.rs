//! The REST model against real responses recorded from Flink 2.3 (tests/fixtures) and the
//! 1.20 shapes (legacy exception keys, `location` beside `endpoint`).

use flinkdeck::flink::model::{
    CheckpointStats, ClusterOverview, JobConfig, JobDetail, JobExceptions, JobState, JobsOverview,
};

#[test]
fn flink_2_3_responses_parse() {
    let overview: ClusterOverview =
        serde_json::from_str(include_str!("fixtures/overview_2_3.json")).unwrap();
    assert_eq!(overview.flink_version, "2.3.0");
    assert_eq!(overview.slots_total, 4);
    let jobs: JobsOverview =
        serde_json::from_str(include_str!("fixtures/jobs_overview_2_3.json")).unwrap();
    assert!(jobs.jobs.iter().any(|j| j.state == JobState::Running && j.tasks.total > 0));
    let detail: JobDetail =
        serde_json::from_str(include_str!("fixtures/job_detail_2_3.json")).unwrap();
    assert_eq!(detail.name, "orders-enrichment");
    assert!(detail.vertices.iter().all(|v| v.task_counts().running == v.parallelism as u32));
    let checkpoints: CheckpointStats =
        serde_json::from_str(include_str!("fixtures/checkpoints_2_3.json")).unwrap();
    let latest = checkpoints.latest.completed.expect("a completed checkpoint");
    assert!(latest.external_path.unwrap().starts_with("file:"));
    let config: JobConfig =
        serde_json::from_str(include_str!("fixtures/job_config_2_3.json")).unwrap();
    assert!(config.entries().iter().any(|(k, _)| k == "restart-strategy"));
}

#[test]
fn flink_2_3_failed_job_names_its_task_manager() {
    let exceptions: JobExceptions =
        serde_json::from_str(include_str!("fixtures/exceptions_2_3_failed.json")).unwrap();
    let terminal = &exceptions.exception_history.entries[0];
    assert!(terminal.task_manager_id.is_none(), "the terminal entry has no TM of its own");
    assert!(terminal.task_manager().is_some(), "it comes from the concurrent exceptions");
    assert!(terminal.root_cause().contains("injected failure"), "{}", terminal.root_cause());
}

#[test]
fn flink_1_20_exceptions_with_legacy_keys_parse() {
    let json = r#"{"root-exception":"org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x",
     "timestamp":1795255850551,
     "all-exceptions":[{"exception":"java.lang.RuntimeException: boom","task":"count (1/1)",
       "location":"localhost:43891","endpoint":"localhost:43891","timestamp":1795255850548,
       "taskManagerId":"localhost:45575-2e22b2"}],
     "truncated":false,
     "exceptionHistory":{"entries":[{"exceptionName":"org.apache.flink.runtime.JobException",
       "stacktrace":"org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x",
       "timestamp":1795255850576,"failureLabels":{},
       "concurrentExceptions":[{"exceptionName":"java.lang.RuntimeException",
         "stacktrace":"java.lang.RuntimeException: boom","timestamp":1795255850548,"failureLabels":{},
         "taskName":"count (1/1) - execution #0","location":"localhost:43891","endpoint":"localhost:43891",
         "taskManagerId":"localhost:45575-2e22b2"}]}],"truncated":false}}"#;
    let exceptions: JobExceptions = serde_json::from_str(json).unwrap();
    let entry = &exceptions.exception_history.entries[0];
    assert_eq!(entry.task_manager(), Some("localhost:45575-2e22b2"));
    assert_eq!(entry.concurrent_exceptions[0].where_ran(), Some("localhost:43891"));
    // 1.19 sends only `location`.
    let old: JobExceptions = serde_json::from_str(
        r#"{"exceptionHistory":{"entries":[{"exceptionName":"E","stacktrace":"E","timestamp":1,"location":"h:1"}]}}"#,
    )
    .unwrap();
    assert_eq!(old.exception_history.entries[0].where_ran(), Some("h:1"));
}
