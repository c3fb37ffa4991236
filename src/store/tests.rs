use super::*;
use crate::config::parse_cluster_flag;
use crate::fleet::{ClusterSnapshot, PollReport};
use crate::flink::FlinkError;
use crate::store::journal::{OpKind, this_process};

fn job(jid: &str, state: JobState, modified: i64) -> JobSummary {
    JobSummary {
        jid: jid.into(),
        name: format!("job-{jid}"),
        state,
        start_time: 100,
        end_time: -1,
        duration: 50,
        last_modification: modified,
        tasks: TaskCounts { total: 2, running: 2, ..TaskCounts::default() },
    }
}

/// A process's own view of the fleet, through which its polls reach the store.
fn observer() -> Fleet {
    Fleet::new(&[parse_cluster_flag("a=http://a").unwrap()])
}

fn seen(fleet: &mut Fleet, report: PollReport) -> AppliedPoll {
    fleet.apply(report).expect("a cluster of the fleet")
}

fn ok(cluster: &str, at_ms: i64, jobs: Vec<JobSummary>) -> PollReport {
    let overview =
        ClusterOverview { flink_version: "2.3.0".into(), taskmanagers: 1, ..Default::default() };
    PollReport { cluster: cluster.into(), at_ms, outcome: Ok(ClusterSnapshot { overview, jobs }) }
}

#[test]
fn polls_round_trip_through_the_cache_as_stale() {
    let mut store = Store::open_in_memory().unwrap();
    let mut fleet = observer();
    store
        .record_poll(&seen(&mut fleet, ok("a", 1000, vec![job("1", JobState::Running, 10)])))
        .unwrap();
    let configs =
        [parse_cluster_flag("a=http://a").unwrap(), parse_cluster_flag("b=http://b").unwrap()];
    let fleet = cached_fleet(&store, &configs).unwrap();
    let a = &fleet.clusters[0];
    assert!(a.is_stale());
    assert_eq!(a.overview.as_ref().unwrap().flink_version, "2.3.0");
    assert_eq!(a.jobs.len(), 1);
    assert_eq!(a.jobs[0].summary.tasks.running, 2);
    assert_eq!(a.jobs[0].fetched_at_ms, 1000);
    assert!(fleet.clusters[1].jobs.is_empty());
}

#[test]
fn transitions_are_recorded_once_per_change() {
    let mut store = Store::open_in_memory().unwrap();
    let mut fleet = observer();
    store
        .record_poll(&seen(&mut fleet, ok("a", 1000, vec![job("1", JobState::Running, 10)])))
        .unwrap();
    store
        .record_poll(&seen(&mut fleet, ok("a", 2000, vec![job("1", JobState::Running, 10)])))
        .unwrap();
    store
        .record_poll(&seen(&mut fleet, ok("a", 3000, vec![job("1", JobState::Restarting, 2900)])))
        .unwrap();
    store
        .record_poll(&seen(&mut fleet, ok("a", 4000, vec![job("1", JobState::Running, 3900)])))
        .unwrap();
    let timeline = store.transitions("a", "1").unwrap();
    let states: Vec<_> =
        timeline.iter().map(|t| (t.from_state.clone(), t.to_state.as_str(), t.at_ms)).collect();
    assert_eq!(
        states,
        vec![
            (None, "RUNNING", 10),
            (Some("RUNNING".into()), "RESTARTING", 2900),
            (Some("RESTARTING".into()), "RUNNING", 3900)
        ]
    );
}

#[test]
fn vanished_jobs_leave_the_cache_but_keep_their_timeline() {
    let mut store = Store::open_in_memory().unwrap();
    let mut fleet = observer();
    store
        .record_poll(&seen(
            &mut fleet,
            ok("a", 1000, vec![job("1", JobState::Running, 10), job("2", JobState::Running, 10)]),
        ))
        .unwrap();
    store
        .record_poll(&seen(&mut fleet, ok("a", 2000, vec![job("2", JobState::Running, 10)])))
        .unwrap();
    let fleet = cached_fleet(&store, &[parse_cluster_flag("a=http://a").unwrap()]).unwrap();
    assert_eq!(fleet.clusters[0].jobs.len(), 1);
    assert_eq!(store.transitions("a", "1").unwrap().len(), 1);
}

#[test]
fn a_failed_poll_keeps_jobs_and_records_the_error() {
    let mut store = Store::open_in_memory().unwrap();
    let mut fleet = observer();
    store
        .record_poll(&seen(&mut fleet, ok("a", 1000, vec![job("1", JobState::Running, 10)])))
        .unwrap();
    let failed = PollReport {
        cluster: "a".into(),
        at_ms: 2000,
        outcome: Err(FlinkError::Timeout(Duration::from_secs(5))),
    };
    store.record_poll(&seen(&mut fleet, failed)).unwrap();
    let fleet = cached_fleet(&store, &[parse_cluster_flag("a=http://a").unwrap()]).unwrap();
    let a = &fleet.clusters[0];
    assert_eq!(a.jobs.len(), 1);
    assert_eq!(a.last_error.as_deref(), Some("timed out after 5000 ms"));
    assert_eq!(a.last_ok_ms, Some(1000));
}

#[test]
fn two_processes_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                let mut fleet = observer();
                for round in 0..50i64 {
                    let state =
                        if round % 2 == 0 { JobState::Running } else { JobState::Restarting };
                    let jobs = vec![
                        job("shared", state, round),
                        job(&format!("own-{writer}"), JobState::Running, 1),
                    ];
                    store.record_poll(&seen(&mut fleet, ok("a", round, jobs))).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let timeline = store.transitions("a", "shared").unwrap();
    // Consecutive entries always change state: no change is recorded twice.
    for pair in timeline.windows(2) {
        assert_ne!(pair[0].to_state, pair[1].to_state);
        assert_eq!(pair[1].from_state.as_deref(), Some(pair[0].to_state.as_str()));
    }
    assert!(!timeline.is_empty());
}

#[test]
fn migrations_are_idempotent_and_refuse_newer_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    drop(Store::open(&path).unwrap());
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { found: 99, .. })));
}

#[test]
fn files_use_wal_and_normal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let mode: String = store.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let sync: i64 = store.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 1));
}

#[tokio::test]
async fn shared_reads_see_what_the_writer_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let writer = StoreWriter::spawn(path.clone());
    let mut fleet = observer();
    writer.record_poll(seen(&mut fleet, ok("a", 1000, vec![job("1", JobState::Running, 10)])));
    writer.record_poll(seen(&mut fleet, ok("a", 2000, vec![job("1", JobState::Failed, 20)])));
    writer.flush();
    let shared = SharedStore::new(Store::open(&path).unwrap());
    let timeline = shared.with(|s| s.transitions("a", "1")).await.unwrap();
    let states: Vec<&str> = timeline.iter().map(|t| t.to_state.as_str()).collect();
    assert_eq!(states, vec!["RUNNING", "FAILED"]);
}

mod journal {
    use super::*;
    use crate::store::journal::{JarProgram, OpKind, Phase, Program};

    #[test]
    fn specs_round_trip_and_follow_their_job() {
        let store = Store::open_in_memory().unwrap();
        let program = Program::Jar(JarProgram {
            jar_id: Some("x.jar".into()),
            args: vec!["--a".into()],
            ..Default::default()
        });
        let mut spec = store.insert_spec("orders", "prod", &program, Some("j1")).unwrap();
        assert_eq!(store.spec_for_job("prod", "j1").unwrap().unwrap(), spec);
        spec.job_id = Some("j2".into());
        spec.last_savepoint = Some("file:/sp/1".into());
        store.update_spec(&spec).unwrap();
        assert!(store.spec_for_job("prod", "j1").unwrap().is_none());
        assert_eq!(
            store.spec(spec.id).unwrap().unwrap().last_savepoint.as_deref(),
            Some("file:/sp/1")
        );
    }

    #[test]
    fn only_unfinished_restarts_with_something_to_resume_are_offered() {
        let store = Store::open_in_memory().unwrap();
        let begin = |kind| {
            store.begin_operation("prod", Some("j1"), None, kind, serde_json::json!({})).unwrap()
        };
        let cut_off = begin(OpKind::Restart);
        let mut refused = begin(OpKind::Restart);
        refused.phase = Phase::Failed;
        refused.savepoint = Some("file:/sp".into());
        store.save_operation(&mut refused).unwrap();
        let mut stop_failed = begin(OpKind::Restart);
        stop_failed.phase = Phase::Failed;
        store.save_operation(&mut stop_failed).unwrap();
        let mut done = begin(OpKind::Restart);
        done.phase = Phase::Succeeded;
        store.save_operation(&mut done).unwrap();
        let _cancel = begin(OpKind::Cancel);
        let ids: Vec<i64> = store.resumable_restarts().unwrap().iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![cut_off.id, refused.id]);
        let history = store.history(Some("j1"), 10).unwrap();
        assert_eq!(history.len(), 5);
        let refused_steps: Vec<_> = history
            .iter()
            .find(|o| o.id == refused.id)
            .unwrap()
            .steps
            .iter()
            .map(|s| s.phase)
            .collect();
        assert_eq!(refused_steps, vec![Phase::Intent, Phase::Failed], "every step is kept");
        assert_eq!(store.history(None, 2).unwrap()[0].kind, OpKind::Cancel, "newest first");
    }

    #[test]
    fn a_restart_of_a_job_its_spec_has_moved_on_from_is_refused() {
        let store = Store::open_in_memory().unwrap();
        let program =
            Program::Jar(JarProgram { jar_id: Some("x.jar".into()), ..Default::default() });
        let mut spec = store.insert_spec("orders", "a", &program, Some("old")).unwrap();
        let lease = std::time::Duration::from_secs(60);
        let automatic = serde_json::json!({ "from_checkpoint": true, "automatic": true });
        let claim = |jid| {
            store.claim_operation(
                "a",
                jid,
                Some(spec.id),
                OpKind::Restart,
                automatic.clone(),
                lease,
            )
        };
        // The first watchdog restarts the job: the spec now runs as "new".
        let mut first = claim("old").unwrap().unwrap();
        first.phase = Phase::Succeeded;
        first.new_job_id = Some("new".into());
        store.save_operation(&mut first).unwrap();
        spec.job_id = Some("new".into());
        store.update_spec(&spec).unwrap();
        // A second one that saw the old job FAILED a moment ago is refused by the claim.
        let held = claim("old").unwrap().unwrap_err();
        assert_eq!(held.holder.id, first.id);
        assert!(claim("new").unwrap().is_ok(), "the job the spec runs as can be restarted");
        assert_eq!(store.auto_restarts_since(spec.id, 0).unwrap().len(), 2);
        assert!(store.auto_restarts_since(spec.id, crate::fleet::now_ms() + 1).unwrap().is_empty());
    }
}

/// A restart journalled as carried out by `owner`, stopped at Stopping.
fn restart_owned_by(store: &Store, owner: &str) -> i64 {
    let op = store
        .begin_operation("a", Some("j1"), None, OpKind::Restart, serde_json::json!({}))
        .unwrap();
    store
        .conn
        .execute("UPDATE operations SET owner = ?2 WHERE id = ?1", params![op.id, owner])
        .unwrap();
    op.id
}

#[test]
fn a_restart_a_live_process_carries_out_is_neither_offered_nor_taken_over() {
    let store = Store::open_in_memory().unwrap();
    let host = this_process().rsplit_once(':').unwrap().0.to_string();
    // pid 1 always runs; a child that has exited is gone.
    let live = restart_owned_by(&store, &format!("{host}:1"));
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let gone = restart_owned_by(&store, &format!("{host}:{}", child.id()));
    let offered: Vec<i64> = store.resumable_restarts().unwrap().iter().map(|o| o.id).collect();
    assert_eq!(offered, vec![gone], "only the restart whose process is gone is offered");

    let busy = store.take_over_operation(live).unwrap().unwrap_err();
    assert_eq!(busy.owner, format!("{host}:1"));
    assert!(busy.to_string().contains("wait for it to finish"), "{busy}");
    let taken = store.take_over_operation(gone).unwrap().unwrap();
    assert_eq!(taken.owner.as_deref(), Some(this_process().as_str()));
    // Now this process carries it out: offered to this process, and taken again by it.
    assert!(store.take_over_operation(gone).unwrap().is_ok());
    assert!(store.resumable_restarts().unwrap().iter().any(|o| o.id == gone));
}

#[test]
fn new_operations_are_owned_by_the_process_that_journals_them() {
    let store = Store::open_in_memory().unwrap();
    let op = store
        .begin_operation("a", Some("j1"), None, OpKind::Savepoint, serde_json::json!({}))
        .unwrap();
    assert_eq!(op.owner.as_deref(), Some(this_process().as_str()));
    let stored = store.operation(op.id).unwrap().unwrap();
    assert_eq!(stored.owner, op.owner);
}
