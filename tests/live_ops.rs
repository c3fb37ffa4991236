//! Job operations against a real Flink 2.3 cluster (one sandbox shared by this binary):
//! submit, savepoint, restart from a savepoint (the new job restores it), restart of a failed
//! job from a checkpoint, interrupted restarts resumed without duplicates, a refused resubmit,
//! a job that ends under a restart (from its checkpoint, or resumable without one), two
//! restarts racing (one claims the job), read-only refusal, and the CLI end to end.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use flinkdeck::config::parse_cluster_flag;
use flinkdeck::flink::FlinkClient;
use flinkdeck::flink::model::JobState;
use flinkdeck::ops::{OpError, Operator};
use flinkdeck::paths::Paths;
use flinkdeck::sandbox::{self, GatewayMode, SandboxOptions, SandboxState};
use flinkdeck::store::SharedStore;
use flinkdeck::store::Store;
use flinkdeck::store::journal::{JarProgram, OpKind, Phase};

fn sandbox() -> &'static SandboxState {
    static SANDBOX: OnceLock<SandboxState> = OnceLock::new();
    SANDBOX.get_or_init(|| start_sandbox("ops-sandbox", sandbox::DEFAULT_FLINK_VERSION))
}

fn sandbox_1_20() -> &'static SandboxState {
    static SANDBOX: OnceLock<SandboxState> = OnceLock::new();
    SANDBOX.get_or_init(|| start_sandbox("ops-sandbox-1.20", sandbox::FLINK_1_VERSION))
}

fn start_sandbox(dir: &str, version: &str) -> SandboxState {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let options = SandboxOptions {
        root: root.clone(),
        cache_dir: Paths::resolve(None).expect("a cache dir").cache_dir,
        flink_version: version.into(),
        clusters: vec!["ops".into()],
        slots: 12,
        jobs: Vec::new(),
        gateway: GatewayMode::Off,
    };
    common::start_sandbox(options)
}

struct Bench {
    operator: Operator,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

fn bench(read_only: bool) -> Bench {
    bench_on(sandbox(), read_only)
}

fn bench_on(state: &SandboxState, read_only: bool) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.sqlite3");
    let mut cluster = parse_cluster_flag(&format!("ops={}", state.clusters[0].url())).unwrap();
    cluster.read_only = read_only;
    let client = FlinkClient::new(&cluster, Duration::from_secs(10)).unwrap();
    let operator = Operator::new(client, cluster, SharedStore::new(Store::open(&db).unwrap()));
    Bench { operator, db, _dir: dir }
}

fn program(name: &str, extra: &[&str]) -> JarProgram {
    program_from(sandbox(), name, extra)
}

fn program_from(state: &SandboxState, name: &str, extra: &[&str]) -> JarProgram {
    let mut args: Vec<String> =
        ["--name", name, "--rate", "20"].iter().map(|s| s.to_string()).collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    JarProgram {
        jar_path: Some(state.jar.clone()),
        entry_class: Some("flinkdeck.sample.SampleJob".into()),
        args,
        ..JarProgram::default()
    }
}

async fn wait_for(client: &FlinkClient, jid: &str, wanted: JobState) {
    for _ in 0..600 {
        if client.job_detail_state(jid).await.ok() == Some(wanted.clone()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {jid} never reached {wanted}");
}

/// Waits until the job has completed a checkpoint (so it has state worth restoring).
async fn wait_checkpointed(client: &FlinkClient, jid: &str) {
    for _ in 0..300 {
        if client.job_checkpoints(jid).await.is_ok_and(|c| c.counts.completed > 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {jid} never completed a checkpoint");
}

async fn restored_from(client: &FlinkClient, jid: &str) -> Option<String> {
    for _ in 0..100 {
        if let Some(path) = client
            .job_checkpoints(jid)
            .await
            .ok()
            .and_then(|c| c.latest.restored)
            .and_then(|r| r.external_path)
        {
            return Some(path);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

async fn running_named(client: &FlinkClient, name: &str) -> usize {
    let jobs = client.jobs_overview().await.unwrap().jobs;
    jobs.iter().filter(|j| j.name == name && !j.state.is_terminal()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_savepoint_and_restart_restore_state() {
    let b = bench(false);
    let client = &b.operator.client;
    let (jid, spec) = b.operator.submit("restart-me", program("restart-me", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    let savepoint = b.operator.savepoint(&jid).await.unwrap();
    assert!(savepoint.contains("savepoint"), "{savepoint}");

    let outcome = b.operator.restart(&jid, false).await.unwrap();
    assert_eq!(outcome.old_job_id, jid);
    assert_ne!(outcome.new_job_id, jid);
    assert_eq!(
        restored_from(client, &outcome.new_job_id).await.as_deref(),
        Some(outcome.savepoint.as_str())
    );
    assert_eq!(client.job_detail_state(&jid).await.unwrap(), JobState::Finished);
    assert_eq!(running_named(client, "restart-me").await, 1);

    let store = Store::open(&b.db).unwrap();
    let spec = store.spec(spec.id).unwrap().unwrap();
    assert_eq!(spec.job_id.as_deref(), Some(outcome.new_job_id.as_str()));
    let history = store.history(Some(&outcome.new_job_id), 10).unwrap();
    assert_eq!(history[0].kind, OpKind::Restart);
    assert_eq!(history[0].phase, Phase::Succeeded);
    assert_eq!(history[0].savepoint.as_deref(), Some(outcome.savepoint.as_str()));
    assert_eq!(history[0].step_path(), "intent→stopping→stopped→resubmitting→succeeded");
    assert_eq!(history[0].steps[2].note.as_deref(), Some(outcome.savepoint.as_str()));
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_cut_off_after_the_stop_is_resumed_once() {
    let b = bench(false);
    let client = &b.operator.client;
    let (jid, _) =
        b.operator.submit("crash-after-stop", program("crash-after-stop", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    let mut op = b.operator.begin_restart(&jid, false).await.unwrap();
    b.operator.step(&mut op).await.unwrap(); // stop sent
    b.operator.step(&mut op).await.unwrap(); // savepoint taken
    assert_eq!(op.phase, Phase::Stopped);
    let op_id = op.id;
    drop(op); // the process dies here

    // A second restart of the same job is refused until the first is resumed or abandoned.
    let refused = b.operator.restart(&jid, false).await.unwrap_err();
    assert!(matches!(&refused, OpError::Held(held) if held.holder.id == op_id), "{refused}");
    assert!(refused.to_string().contains(&format!("resume --abandon {op_id}")), "{refused}");
    let store = Store::open(&b.db).unwrap();
    let open = store.resumable_restarts().unwrap();
    assert_eq!(open.len(), 1, "found at the next start");
    let outcome = b.operator.resume(open.into_iter().next().unwrap()).await.unwrap();
    assert_eq!(
        restored_from(client, &outcome.new_job_id).await.as_deref(),
        Some(outcome.savepoint.as_str())
    );
    assert_eq!(running_named(client, "crash-after-stop").await, 1);
    assert!(store.resumable_restarts().unwrap().is_empty());
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_cut_off_after_the_resubmit_was_sent_never_submits_twice() {
    let b = bench(false);
    let client = &b.operator.client;
    let (jid, _) =
        b.operator.submit("crash-after-submit", program("crash-after-submit", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    let mut op = b.operator.begin_restart(&jid, false).await.unwrap();
    for _ in 0..3 {
        b.operator.step(&mut op).await.unwrap();
    }
    assert_eq!(op.phase, Phase::Resubmitting);
    // The submission went out, then the process died before journalling the answer.
    let jar = client.upload_jar(&sandbox().jar).await.unwrap();
    let request = flinkdeck::flink::JarRunRequest {
        entry_class: Some("flinkdeck.sample.SampleJob".into()),
        program_args_list: program("crash-after-submit", &[]).args,
        savepoint_path: op.savepoint.clone(),
        job_id: op.new_job_id.clone(),
        claim_mode: Some("NO_CLAIM".into()),
        ..Default::default()
    };
    client.run_jar(&jar, &request).await.unwrap();

    let open = Store::open(&b.db).unwrap().resumable_restarts().unwrap();
    let outcome = b.operator.resume(open.into_iter().next().unwrap()).await.unwrap();
    assert_eq!(Some(outcome.new_job_id.clone()), op.new_job_id);
    assert_eq!(running_named(client, "crash-after-submit").await, 1, "no duplicate job");
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_resubmit_keeps_the_savepoint_and_can_be_resumed() {
    let b = bench(false);
    let client = &b.operator.client;
    let (jid, spec) = b.operator.submit("refused", program("refused", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    // Break the spec: the resubmission will be refused (bad program argument).
    let store = Store::open(&b.db).unwrap();
    let mut broken = store.spec(spec.id).unwrap().unwrap();
    let flinkdeck::store::journal::Program::Jar(good) = broken.program.clone() else {
        panic!("a jar spec")
    };
    let mut bad = good.clone();
    bad.args.push("--rate=not-a-number".into());
    broken.program = flinkdeck::store::journal::Program::Jar(bad);
    store.update_spec(&broken).unwrap();

    let error = b.operator.restart(&jid, false).await.unwrap_err();
    assert!(error.to_string().contains("--rate expects an integer"), "{error}");
    let open = store.resumable_restarts().unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].savepoint.is_some(), "the savepoint survives the refusal");

    broken.program = flinkdeck::store::journal::Program::Jar(good);
    store.update_spec(&broken).unwrap();
    let outcome = b.operator.resume(open.into_iter().next().unwrap()).await.unwrap();
    assert_eq!(
        restored_from(client, &outcome.new_job_id).await.as_deref(),
        Some(outcome.savepoint.as_str())
    );
    assert_eq!(running_named(client, "refused").await, 1);
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_restarts_from_its_latest_checkpoint() {
    let b = bench(false);
    let client = &b.operator.client;
    let fatal =
        program("fails-then-restarts", &["--fail-every-seconds", "4", "--restart-attempts", "0"]);
    let (jid, _) = b.operator.submit("fails-then-restarts", fatal).await.unwrap();
    wait_for(client, &jid, JobState::Failed).await;
    let outcome = b.operator.restart(&jid, true).await.unwrap();
    let restored = restored_from(client, &outcome.new_job_id).await.expect("restored");
    assert_eq!(restored, outcome.savepoint);
    assert!(restored.contains("chk-"), "a checkpoint, not a savepoint: {restored}");
    let _ = b.operator.cancel(&outcome.new_job_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_canceled_between_the_intent_and_the_stop_restarts_from_its_checkpoint() {
    let b = bench(false);
    let client = &b.operator.client;
    let (jid, _) = b.operator.submit("canceled-mid", program("canceled-mid", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    let mut op = b.operator.begin_restart(&jid, false).await.unwrap();
    // Someone cancels the job before the restart's stop goes out: there is nothing to stop
    // with a savepoint, but the canceled job retained its checkpoints.
    client.cancel_job(&jid).await.unwrap();
    wait_for(client, &jid, JobState::Canceled).await;
    while !b.operator.step(&mut op).await.unwrap() {}
    assert_eq!(op.phase, Phase::Succeeded, "{:?}", op.error);
    let checkpoint = op.savepoint.clone().unwrap();
    assert!(checkpoint.contains("chk-"), "the latest checkpoint: {checkpoint}");
    let new = op.new_job_id.clone().unwrap();
    assert_eq!(restored_from(client, &new).await.as_deref(), Some(checkpoint.as_str()));
    wait_for(client, &new, JobState::Running).await;
    assert_eq!(running_named(client, "canceled-mid").await, 1);
    let history = Store::open(&b.db).unwrap().history(Some(&new), 1).unwrap();
    assert_eq!(history[0].step_path(), "intent→stopped→resubmitting→succeeded");
    b.operator.cancel(&new).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_that_finds_its_job_down_with_nothing_to_restore_stays_resumable() {
    let b = bench(false);
    let client = &b.operator.client;
    // Checkpoints every ten minutes: the job has none when it is canceled.
    let sparse = program("down-no-state", &["--checkpoint-interval-ms", "600000"]);
    let (jid, _) = b.operator.submit("down-no-state", sparse).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    let mut op = b.operator.begin_restart(&jid, false).await.unwrap();
    client.cancel_job(&jid).await.unwrap();
    wait_for(client, &jid, JobState::Canceled).await;
    assert!(b.operator.step(&mut op).await.unwrap(), "the restart stops there");
    assert_eq!(op.phase, Phase::Failed);
    assert_eq!(op.left_job_state.as_deref(), Some("CANCELED"));
    let error = op.error.clone().unwrap();
    assert!(error.contains("no retained savepoint or checkpoint"), "{error}");
    assert!(error.contains(&format!("resume --abandon {}", op.id)), "{error}");

    let store = Store::open(&b.db).unwrap();
    let open = store.resumable_restarts().unwrap();
    assert_eq!(open.iter().map(|o| o.id).collect::<Vec<_>>(), vec![op.id], "offered to resume");
    let refused = b.operator.restart(&jid, false).await.unwrap_err();
    assert!(matches!(&refused, OpError::Held(held) if held.holder.id == op.id), "{refused}");
    // Resuming it is asking for the job back, without state.
    let outcome = b.operator.resume(open.into_iter().next().unwrap()).await.unwrap();
    wait_for(client, &outcome.new_job_id, JobState::Running).await;
    assert_eq!(outcome.savepoint, "");
    assert_eq!(running_named(client, "down-no-state").await, 1);
    assert!(store.resumable_restarts().unwrap().is_empty());
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_and_journals_nothing() {
    let b = bench(true);
    let jid = "0123456789abcdef0123456789abcdef";
    for result in [
        b.operator.restart(jid, false).await.map(|_| ()),
        b.operator.cancel(jid).await,
        b.operator.stop(jid, false).await.map(|_| ()),
        b.operator.savepoint(jid).await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(OpError::ReadOnly(_))), "{result:?}");
    }
    assert!(Store::open(&b.db).unwrap().history(None, 10).unwrap().is_empty());
}

#[test]
fn cli_submit_restart_and_history() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
            .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
            .env("FLINKDECK_DATA_DIR", dirs.path().join("data"))
            .arg("--cluster")
            .arg(format!("ops={}", state.clusters[0].url()))
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let jar = state.jar.display().to_string();
    let submitted: serde_json::Value = serde_json::from_str(&run(&[
        "submit",
        "--jar",
        &jar,
        "--entry-class",
        "flinkdeck.sample.SampleJob",
        "--name",
        "cli-job",
        "--",
        "--name",
        "cli-job",
    ]))
    .unwrap();
    let jid = submitted["job_id"].as_str().unwrap().to_string();
    assert!(submitted["spec_id"].as_i64().unwrap() > 0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = state.clusters[0].client();
    runtime.block_on(wait_for(&client, &jid, JobState::Running));
    runtime.block_on(wait_checkpointed(&client, &jid));

    let restarted: serde_json::Value =
        serde_json::from_str(&run(&["restart", "cli-job", "--json"])).unwrap();
    assert_eq!(restarted["old_job_id"], jid.as_str());
    let new = restarted["new_job_id"].as_str().unwrap().to_string();
    assert!(restarted["savepoint"].as_str().unwrap().contains("savepoint"));
    let history: serde_json::Value =
        serde_json::from_str(&run(&["history", &new, "--json"])).unwrap();
    assert_eq!(history[0]["kind"], "restart");
    assert_eq!(history[0]["phase"], "succeeded");
    let copied: serde_json::Value = serde_json::from_str(&run(&[
        "copy", &new, "--name", "cli-copy", "--", "--name", "cli-copy", "--rate", "5",
    ]))
    .unwrap();
    let copy = copied["job_id"].as_str().unwrap().to_string();
    assert_ne!(copied["spec_id"], submitted["spec_id"]);
    runtime.block_on(wait_for(&client, &copy, JobState::Running));
    let jobs = runtime.block_on(client.jobs_overview()).unwrap().jobs;
    assert_eq!(jobs.iter().find(|j| j.jid == copy).unwrap().name, "cli-copy");
    run(&["cancel", &new]);
    runtime.block_on(wait_checkpointed(&client, &copy));
    let stopped: serde_json::Value =
        serde_json::from_str(&run(&["stop", &copy, "--json"])).unwrap();
    assert!(stopped["savepoint"].as_str().unwrap().contains("savepoint"), "{stopped}");
    runtime.block_on(wait_for(&client, &copy, JobState::Finished));
    runtime.block_on(wait_for(&client, &new, JobState::Canceled));
}

#[test]
fn of_two_restarts_started_at_once_one_restarts_the_job_and_the_other_names_it() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    // `flinkdeck ARGS`; with a barrier, a shell that waits for that file, then runs it.
    let flinkdeck = |barrier: Option<&std::path::Path>, args: &[&str]| {
        let bin = env!("CARGO_BIN_EXE_flinkdeck");
        let mut command = std::process::Command::new(if barrier.is_some() { "sh" } else { bin });
        if let Some(file) = barrier {
            let wait = r#"while [ ! -e "$0" ]; do sleep 0.005; done; exec "$@""#;
            command.arg("-c").arg(wait).arg(file).arg(bin);
        }
        command
            .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
            .arg("--data-dir")
            .arg(dirs.path().join("data"))
            .arg("--cluster")
            .arg(format!("ops={}", state.clusters[0].url()))
            .args(args);
        command
    };
    let jar = state.jar.display().to_string();
    let submitted = flinkdeck(
        None,
        &[
            "submit",
            "--jar",
            &jar,
            "--entry-class",
            "flinkdeck.sample.SampleJob",
            "--name",
            "raced",
            "--",
            "--name",
            "raced",
        ],
    )
    .output()
    .unwrap();
    assert!(submitted.status.success(), "{}", String::from_utf8_lossy(&submitted.stderr));
    let submitted: serde_json::Value = serde_json::from_slice(&submitted.stdout).unwrap();
    let jid = submitted["job_id"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = state.clusters[0].client();
    runtime.block_on(wait_for(&client, &jid, JobState::Running));
    runtime.block_on(wait_checkpointed(&client, &jid));

    // Both processes wait for the barrier file, so they start their restarts together.
    let barrier = dirs.path().join("go");
    let racers: Vec<_> = (0..2)
        .map(|_| {
            flinkdeck(Some(&barrier), &["restart", &jid, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(&barrier, "").unwrap();
    let outputs: Vec<_> = racers.into_iter().map(|r| r.wait_with_output().unwrap()).collect();
    let (won, lost): (Vec<_>, Vec<_>) = outputs.iter().partition(|o| o.status.success());
    let report =
        |o: &std::process::Output| format!("{}: {}", o.status, String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "exactly one restart proceeds: {:?}",
        outputs.iter().map(report).collect::<Vec<_>>()
    );
    let refusal = String::from_utf8_lossy(&lost[0].stderr);
    assert!(refusal.contains("wait for it to finish"), "{refusal}");
    let outcome: serde_json::Value = serde_json::from_slice(&won[0].stdout).unwrap();
    let new = outcome["new_job_id"].as_str().unwrap().to_string();
    let savepoint = outcome["savepoint"].as_str().unwrap().to_string();
    assert_ne!(new, jid);
    assert!(savepoint.contains("savepoint"), "{savepoint}");
    runtime.block_on(async {
        wait_for(&client, &new, JobState::Running).await;
        assert_eq!(restored_from(&client, &new).await.as_deref(), Some(savepoint.as_str()));
        assert_eq!(client.job_detail_state(&jid).await.unwrap(), JobState::Finished);
        assert_eq!(running_named(&client, "raced").await, 1);
    });
    let history = flinkdeck(None, &["history", &jid, "--json"]).output().unwrap();
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let restarts: Vec<_> =
        history.as_array().unwrap().iter().filter(|o| o["kind"] == "restart").collect();
    assert_eq!(restarts.len(), 1, "{history:#}");
    assert_eq!(restarts[0]["phase"], "succeeded");
    let holder = format!("job {jid} is held by operation {} (restart by ", restarts[0]["id"]);
    assert!(refusal.contains(&holder), "the one that restarted it: {refusal}");
    let abandon = format!("flinkdeck resume --abandon {}", restarts[0]["id"]);
    assert!(refusal.contains(&abandon), "{refusal}");
    runtime.block_on(client.cancel_job(&new)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_flink_1_20_restores_from_the_savepoint() {
    let state = sandbox_1_20();
    let b = bench_on(state, false);
    let client = &b.operator.client;
    assert!(client.overview().await.unwrap().flink_version.starts_with("1.20"));
    let (jid, _) =
        b.operator.submit("old-flink", program_from(state, "old-flink", &[])).await.unwrap();
    wait_for(client, &jid, JobState::Running).await;
    wait_checkpointed(client, &jid).await;
    let outcome = b.operator.restart(&jid, false).await.unwrap();
    assert_eq!(
        restored_from(client, &outcome.new_job_id).await.as_deref(),
        Some(outcome.savepoint.as_str())
    );
    assert_eq!(running_named(client, "old-flink").await, 1);
    b.operator.cancel(&outcome.new_job_id).await.unwrap();
}

#[test]
fn cli_adopts_a_job_it_did_not_start_and_restarts_it() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = state.clusters[0].client();
    // Started behind flinkdeck's back, straight through the REST API.
    let jid = runtime.block_on(async {
        let jar = client.upload_jar(&state.jar).await.unwrap();
        let request = flinkdeck::flink::JarRunRequest {
            entry_class: Some("flinkdeck.sample.SampleJob".into()),
            program_args_list: vec!["--name".into(), "foreign".into()],
            ..Default::default()
        };
        let jid = client.run_jar(&jar, &request).await.unwrap();
        wait_for(&client, &jid, JobState::Running).await;
        wait_checkpointed(&client, &jid).await;
        jid
    });
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
            .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
            .env("FLINKDECK_DATA_DIR", dirs.path().join("data"))
            .arg("--cluster")
            .arg(format!("ops={}", state.clusters[0].url()))
            .args(args)
            .output()
            .unwrap()
    };
    let refused = run(&["restart", &jid]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("adopt it first"));
    let adopted = run(&[
        "adopt",
        &jid,
        "--entry-class",
        "flinkdeck.sample.SampleJob",
        "--",
        "--name",
        "foreign",
    ]);
    assert!(adopted.status.success(), "{}", String::from_utf8_lossy(&adopted.stderr));
    let spec: serde_json::Value = serde_json::from_slice(&adopted.stdout).unwrap();
    assert_eq!(spec["name"], "foreign");
    assert!(
        spec["program"]["jar_id"].as_str().unwrap().ends_with(".jar"),
        "pre-filled from /jars: {spec}"
    );
    let restarted = run(&["restart", "foreign", "--json"]);
    assert!(restarted.status.success(), "{}", String::from_utf8_lossy(&restarted.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&restarted.stdout).unwrap();
    let new = outcome["new_job_id"].as_str().unwrap().to_string();
    runtime.block_on(async {
        assert!(restored_from(&client, &new).await.is_some());
        client.cancel_job(&new).await.unwrap();
    });
}

#[test]
fn bulk_recovery_restarts_every_failed_job_from_its_checkpoint_and_lists_the_rest() {
    let state = sandbox();
    let dirs = tempfile::tempdir().unwrap();
    let flinkdeck = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
            .env("FLINKDECK_CONFIG_DIR", dirs.path().join("config"))
            .env("FLINKDECK_DATA_DIR", dirs.path().join("data"))
            .arg("--cluster")
            .arg(format!("ops={}", state.clusters[0].url()))
            .args(args)
            .output()
            .unwrap()
    };
    let jar = state.jar.display().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = state.clusters[0].client();
    let mut failed = Vec::new();
    for name in ["bulk-a", "bulk-b"] {
        let output = flinkdeck(&[
            "submit",
            "--jar",
            &jar,
            "--entry-class",
            "flinkdeck.sample.SampleJob",
            "--name",
            name,
            "--",
            "--name",
            name,
            "--fail-every-seconds",
            "4",
            "--restart-attempts",
            "0",
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let submitted: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        failed.push(submitted["job_id"].as_str().unwrap().to_string());
    }
    for jid in &failed {
        runtime.block_on(wait_for(&client, jid, JobState::Failed));
    }
    // Other tests' jobs on this cluster may have failed too: theirs have no spec here.
    let output = flinkdeck(&["restart", "--failed-since", "10m", "--json"]);
    let report: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    for jid in &failed {
        let entry = report.iter().find(|r| r["job_id"] == jid.as_str()).expect("listed");
        assert_eq!(entry["outcome"], "restarted", "{entry}");
        assert!(entry["restored_from"].as_str().unwrap().contains("chk-"), "{entry}");
        let new = entry["new_job_id"].as_str().unwrap();
        runtime.block_on(wait_for(&client, new, JobState::Running));
    }
    let others: Vec<_> = report
        .iter()
        .filter(|r| !failed.contains(&r["job_id"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        others.iter().all(|r| r["outcome"] == "no_spec" || r["outcome"] == "running_again"),
        "{others:?}"
    );
    assert_eq!(output.status.success(), others.iter().all(|r| r["outcome"] == "running_again"));
    // Run again: the restarted ones are running again, nothing is restarted twice.
    let again: Vec<serde_json::Value> =
        serde_json::from_slice(&flinkdeck(&["restart", "--failed-since", "10m", "--json"]).stdout)
            .unwrap();
    for jid in &failed {
        let entry = again.iter().find(|r| r["job_id"] == jid.as_str()).unwrap();
        assert_eq!(entry["outcome"], "running_again", "{entry}");
    }
    for entry in report.iter().filter(|r| failed.iter().any(|f| r["job_id"] == f.as_str())) {
        let _ = runtime.block_on(client.cancel_job(entry["new_job_id"].as_str().unwrap()));
    }
}
