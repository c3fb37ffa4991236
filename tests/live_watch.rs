//! `flinkdeck watch` against a real Flink 2.3 sandbox and a loopback webhook: two watchers
//! share one database; a job that fails is announced within seconds and restarted from its
//! checkpoint by exactly one of them; the active one is killed and the other takes over; the
//! restarts stop after the window's limit, and the resolved message says how the job came back.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::watch::{Hook, active_watchers, eventually, healthz, run, start_watcher};
use flinkdeck::flink::model::JobState;
use flinkdeck::paths::Paths;
use flinkdeck::sandbox::{self, GatewayMode, SandboxOptions};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_watchers_announce_a_failure_restart_it_once_from_its_checkpoint_and_take_over() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("watch-sandbox");
    let state = common::start_sandbox(SandboxOptions {
        root: root.clone(),
        cache_dir: Paths::resolve(None).expect("a cache dir").cache_dir,
        flink_version: sandbox::DEFAULT_FLINK_VERSION.into(),
        clusters: vec!["w".into()],
        slots: 8,
        jobs: Vec::new(),
        gateway: GatewayMode::Off,
    });
    let cluster = format!("w={}", state.clusters[0].url());
    let client = state.clusters[0].client();
    let home = tempfile::tempdir().unwrap();
    let (hook, url) = Hook::start().await;
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[[channels]]\nname = 'ops'\nkind = 'webhook'\nurl = '{url}'\n\n\
             [alerts]\ngroup_wait = '1s'\ngroup_interval = '2s'\n\n\
             [auto_restart]\nmax = 2\nwindow = '10m'\nbackoff = '1s'\n"
        ),
    )
    .unwrap();
    let first = start_watcher(home.path(), &cluster);
    let second = start_watcher(home.path(), &cluster);
    let active = eventually("one active watcher", Duration::from_secs(20), async || {
        let active = active_watchers(&[&first, &second]).await;
        (active.len() == 1).then(|| active[0])
    })
    .await;

    let jar = state.jar.display().to_string();
    let submitted: Value = serde_json::from_str(&run(
        home.path(),
        &cluster,
        &[
            "submit",
            "--jar",
            &jar,
            "--entry-class",
            "flinkdeck.sample.SampleJob",
            "--name",
            "flaky",
            "--auto-restart",
            "--",
            "--name",
            "flaky",
            "--rate",
            "20",
            "--fail-every-seconds",
            "12",
            "--restart-attempts",
            "0",
        ],
    ))
    .unwrap();
    let jid = submitted["job_id"].as_str().unwrap().to_string();

    // The checkpoint probe reaches the running job within the cluster's request budget.
    eventually("the checkpoint probe", Duration::from_secs(10), async || {
        let url = format!("http://127.0.0.1:{active}/metrics");
        let metrics = reqwest::get(url).await.ok()?.text().await.ok()?;
        metrics.contains("flinkdeck_checkpoint_probed_jobs{cluster=\"w\"} 1").then_some(())
    })
    .await;

    // The failure is announced: one firing message about the job, keyed.
    let firing = eventually("the failure announced", Duration::from_secs(40), async || {
        hook.messages()
            .into_iter()
            .find(|(m, _)| m["status"] == "firing" && m["rule"] == "job_failed")
    })
    .await;
    assert_eq!(firing.0["jobs"][0]["id"], jid.as_str());
    assert_eq!(firing.0["jobs"][0]["name"], "flaky");
    assert_eq!(firing.1, firing.0["key"].as_str().unwrap(), "Idempotency-Key is the key");
    assert_eq!(firing.0["cluster"], "w");

    // …and the job comes back from its checkpoint, under a new id, once.
    let restarted = eventually("the automatic restart", Duration::from_secs(30), async || {
        let jobs = client.jobs_overview().await.ok()?.jobs;
        jobs.into_iter().find(|j| j.name == "flaky" && j.jid != jid && j.state == JobState::Running)
    })
    .await;
    let history: Value =
        serde_json::from_str(&run(home.path(), &cluster, &["history", &jid, "--json"])).unwrap();
    assert_eq!(history[0]["kind"], "restart");
    assert_eq!(history[0]["params"]["automatic"], true);
    assert_eq!(history[0]["new_job_id"], restarted.jid.as_str());
    assert!(history[0]["savepoint"].as_str().unwrap().contains("chk-"), "{history}");

    // The active watcher dies without a word; the other takes over within two lease periods.
    let (mut dead, standby) = if active == first.port { (first, second) } else { (second, first) };
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    eventually("the standby takes over", Duration::from_secs(25), async || {
        healthz(standby.port).await.filter(|h| h["active"] == true)
    })
    .await;

    // The restarted job fails again (it fails every 12 s): one more restart, then the window's
    // limit of 2 is reached and the third failure is left alone.
    eventually("the restart limit reached", Duration::from_secs(90), async || {
        let out = run(home.path(), &cluster, &["alerts", "--json"]);
        let view: Value = serde_json::from_str(&out).ok()?;
        view["alerts"]
            .as_array()?
            .iter()
            .find(|a| {
                a["action"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("gave up: restarted automatically 2/2"))
            })
            .cloned()
    })
    .await;
    let jobs = client.jobs_overview().await.unwrap().jobs;
    let flaky: Vec<_> = jobs.iter().filter(|j| j.name == "flaky").collect();
    assert_eq!(flaky.len(), 3, "the original and two restarts, never a duplicate: {flaky:?}");
    assert!(flaky.iter().all(|j| j.state == JobState::Failed), "{flaky:?}");

    // Every message was sent once (distinct keys), and the resolved one says how it came back.
    let messages = hook.messages();
    let mut keys: Vec<&str> = messages.iter().map(|(_, k)| k.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), messages.len(), "no message twice: {messages:#?}");
    let resolved =
        messages.iter().find(|(m, _)| m["status"] == "resolved").expect("a resolved message");
    let text = resolved.0["text"].as_str().unwrap();
    assert!(text.contains("back RUNNING as job"), "{text}");
    assert!(text.contains("restarted automatically from chk-"), "{text}");
    drop(standby);
    sandbox::down(&root);
}
