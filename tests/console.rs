//! The console without a terminal: pane snapshots at 80x24 and 160x48, and key sequences
//! fed to the app with their effect on state; and once, the binary in a pseudo-terminal.

mod common;

use common::{NOW_MS, sample_app, screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flinkdeck::flink::model::JobState;
use flinkdeck::insight::JobInsight;
use flinkdeck::tui::app::{App, Effect, Focus, Overlay};
use flinkdeck::tui::jobops::{JobAction, OpUpdate};
use flinkdeck::tui::theme::Role;

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let modifiers =
            if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE };
        app.on_key(KeyEvent::new(KeyCode::Char(c), modifiers));
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn visible_names(app: &App) -> Vec<String> {
    app.jobs.rows().iter().map(|r| r.get(&app.fleet).unwrap().1.summary.name.clone()).collect()
}

#[test]
fn main_view_80x24() {
    insta::assert_snapshot!(screen(&sample_app(), 80, 24));
}

#[test]
fn main_view_160x48() {
    let mut app = sample_app();
    app.on_resize(160, 48);
    insta::assert_snapshot!(screen(&app, 160, 48));
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut app = sample_app();
    press(&mut app, "?");
    app.on_resize(160, 48);
    let text = screen(&app, 160, 48);
    insta::assert_snapshot!(text);
    assert!(text.contains("cycle state filter"));
}

#[test]
fn palette_narrows_and_runs_commands() {
    let mut app = sample_app();
    press(&mut app, ":theme li");
    insta::assert_snapshot!(screen(&app, 80, 24));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.theme().name, "light");
    assert!(app.overlay.is_none());
    press(&mut app, ":cluster prod-b");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.jobs.cluster_filter.as_deref(), Some("prod-b"));
    assert_eq!(app.jobs.rows().len(), 3);
    press(&mut app, ":nonsense");
    key(&mut app, KeyCode::Enter);
    assert!(app.status.as_ref().unwrap().is_error);
}

#[test]
fn problems_sort_first_and_state_filter_cycles() {
    let mut app = sample_app();
    let first = app.jobs.selected_job(&app.fleet).unwrap().1.summary.state.clone();
    assert_eq!(first, JobState::Restarting);
    press(&mut app, "f");
    assert!(visible_names(&app).len() == 12 + 3 + 2 - 6 - 3); // running only: all but 6 problems, 3 ended
    press(&mut app, "f");
    let states: Vec<_> = app
        .jobs
        .rows()
        .iter()
        .map(|r| r.get(&app.fleet).unwrap().1.summary.state.clone())
        .collect();
    assert!(
        states.iter().all(|s| matches!(s, JobState::Restarting | JobState::Failed)),
        "{states:?}"
    );
    press(&mut app, "ff");
    assert_eq!(app.jobs.rows().len(), 17);
}

#[test]
fn filter_typing_narrows_and_escape_clears() {
    let mut app = sample_app();
    press(&mut app, "/sink_0_1");
    assert!(app.jobs.editing_filter);
    let names = visible_names(&app);
    assert!(!names.is_empty() && names.iter().all(|n| n.contains("sink_0_1")), "{names:?}");
    let text = screen(&app, 80, 24);
    assert!(text.contains("/ sink_0_1"), "{text}");
    key(&mut app, KeyCode::Enter);
    assert!(!app.jobs.editing_filter);
    press(&mut app, "j"); // navigation works again once the filter is kept
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.jobs.rows().len(), 17);
}

#[test]
fn sort_keys_cycle_and_reverse() {
    let mut app = sample_app();
    press(&mut app, "s");
    let names = visible_names(&app);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    press(&mut app, "S");
    sorted.reverse();
    assert_eq!(visible_names(&app), sorted);
}

#[test]
fn selection_follows_the_job_across_refreshes() {
    let mut app = sample_app();
    press(&mut app, "jjj");
    let before = app.jobs.selected;
    let chosen = app.jobs.selected_job(&app.fleet).unwrap().1.summary.jid.clone();
    // A new failing job sorts first, so every row moves down one: the index alone would now
    // point at the job that was above the chosen one.
    let fleet = common::sample_fleet();
    let mut jobs: Vec<_> = fleet.clusters[0].jobs.iter().map(|j| j.summary.clone()).collect();
    let mut newcomer = jobs[0].clone();
    newcomer.jid = "00000000000000000000000000000new".into();
    newcomer.name = "a new failing job".into();
    newcomer.state = JobState::Failing;
    jobs.push(newcomer);
    let report = flinkdeck::fleet::PollReport {
        cluster: "prod-a".into(),
        at_ms: NOW_MS + 2000,
        outcome: Ok(flinkdeck::fleet::ClusterSnapshot {
            overview: fleet.clusters[0].overview.clone().unwrap(),
            jobs,
        }),
    };
    common::poll(&mut app, report);
    assert_eq!(app.jobs.selected, before + 1, "the chosen job's row moved");
    assert_eq!(app.jobs.selected_job(&app.fleet).unwrap().1.summary.jid, chosen);
}

#[test]
fn cluster_pane_opens_a_cluster_filter() {
    let mut app = sample_app();
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Focus::Clusters);
    press(&mut app, "j");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Jobs);
    assert_eq!(app.jobs.cluster_filter.as_deref(), Some("prod-b"));
    assert!(visible_names(&app).iter().all(|n| n.contains("_1_")));
}

/// Opens the detail of the selected job and feeds it the recorded failure of the sample job.
fn open_failed_detail(app: &mut App) {
    key(app, KeyCode::Enter);
    let (cluster, jid) = match app.take_effects().as_slice() {
        [Effect::FetchInsight { cluster, jid }] => (cluster.clone(), jid.clone()),
        other => panic!("unexpected effects {other:?}"),
    };
    let loading = screen(app, 80, 24);
    assert!(loading.contains("Fetching the job's details"), "{loading}");
    let mut exceptions: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/exceptions_2_3_failed.json")).unwrap();
    // An older failure on another TaskManager, so there is a choice of entries.
    exceptions["exceptionHistory"]["entries"].as_array_mut().unwrap().push(serde_json::json!({
        "exceptionName": "java.lang.IllegalStateException",
        "stacktrace": "java.lang.IllegalStateException: an older failure\n\tat Job.run(Job.java:1)",
        "timestamp": NOW_MS - 120_000,
        "taskName": "stateful-map (1/1)",
        "taskManagerId": "tm-older",
        "concurrentExceptions": []
    }));
    let exceptions = serde_json::from_value(exceptions).unwrap();
    app.on_insight(JobInsight {
        cluster: cluster.clone(),
        jid: jid.clone(),
        fetched_at_ms: NOW_MS,
        detail: Ok(serde_json::from_str(include_str!("fixtures/job_detail_2_3.json")).unwrap()),
        exceptions: Ok(exceptions),
        checkpoints: Ok(
            serde_json::from_str(include_str!("fixtures/checkpoints_2_3.json")).unwrap()
        ),
        config: Err(flinkdeck::flink::FlinkError::Http {
            status: 404,
            message: "Not found: /jobs/x/config".into(),
        }),
        operations: Vec::new(),
        timeline: vec![flinkdeck::store::Transition {
            from_state: None,
            to_state: "RUNNING".into(),
            at_ms: NOW_MS - 60_000,
        }],
    });
}

#[test]
fn enter_opens_the_detail_and_asks_for_its_data() {
    let mut app = sample_app();
    open_failed_detail(&mut app);
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("detail_80x24", text);
    assert!(
        text.contains("RuntimeException: flinkdeck sample: injected"),
        "root cause first: {text}"
    );
    press(&mut app, "]]");
    assert!(screen(&app, 80, 24).contains("Checkpoints"));
    key(&mut app, KeyCode::Esc);
    assert!(app.detail.is_none());
}

#[test]
fn a_chosen_exception_opens_its_own_taskmanager_log() {
    let mut app = sample_app();
    open_failed_detail(&mut app);
    press(&mut app, "ee");
    let text = screen(&app, 80, 24);
    assert!(text.contains('▶'), "the chosen entry is marked: {text}");
    let chosen = app.detail.as_ref().unwrap().chosen_exception().cloned().unwrap();
    press(&mut app, "l");
    let Some(Effect::OpenLogs { entry: Some(entry), .. }) = app.take_effects().pop() else {
        panic!("the jump carries the chosen entry");
    };
    assert_eq!(*entry, chosen);
    assert_eq!(app.detail.as_ref().unwrap().selected_exception, Some(1));
    let plan = flinkdeck::logs::jump::plan_for_entry(&entry);
    assert_eq!(plan.target, flinkdeck::logs::LogTarget::TaskManager("tm-older".into()));
    // Back to the newest entry: its task's TaskManager, from the concurrent exceptions.
    press(&mut app, "E");
    let newest = app.detail.as_ref().unwrap().chosen_exception().unwrap();
    assert_ne!(
        flinkdeck::logs::jump::plan_for_entry(newest).target,
        flinkdeck::logs::LogTarget::TaskManager("tm-older".into())
    );
}

#[test]
fn states_are_drawn_in_their_theme_colours() {
    let app = sample_app();
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| flinkdeck::tui::draw::draw(f, &app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let text = screen(&app, 80, 24);
    let (row, line) = text.lines().enumerate().find(|(_, l)| l.contains("FAILED")).unwrap();
    let col = line.find("FAILED").unwrap() as u16;
    let cell = &buffer[(col, row as u16)];
    assert_eq!(cell.fg, app.theme().style(Role::JobFailed).fg.unwrap());
}

#[test]
fn quit_and_help_close() {
    let mut app = sample_app();
    press(&mut app, "?");
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    key(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
    assert!(!app.should_quit);
    press(&mut app, "q");
    assert!(app.should_quit);
}

#[test]
fn a_detail_that_cannot_be_fetched_says_why() {
    let mut app = sample_app();
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.take_effects().pop(), Some(Effect::FetchInsight { .. })));
    app.on_effect_failed("CA bundle /etc/x.pem: no such file".into());
    let text = screen(&app, 80, 24);
    assert!(text.contains("Cannot fetch the job's details: CA bundle"), "{text}");
    assert!(!app.detail.as_ref().unwrap().loading);
}

fn first_job_in_state(app: &mut App, state: JobState) {
    for _ in 0..app.jobs.rows().len() {
        if app.jobs.selected_job(&app.fleet).unwrap().1.summary.state == state {
            return;
        }
        press(app, "j");
    }
    panic!("no {state} job");
}

#[test]
fn restart_asks_first_and_then_operates() {
    let mut app = sample_app();
    first_job_in_state(&mut app, JobState::Running);
    let jid = app.jobs.selected_job(&app.fleet).unwrap().1.summary.jid.clone();
    press(&mut app, "R");
    let text = screen(&app, 80, 24);
    assert!(text.contains("Restart") && text.contains("resubmitted from that savepoint"), "{text}");
    assert!(app.take_effects().is_empty(), "nothing happens before the answer");
    press(&mut app, "y");
    assert_eq!(
        app.take_effects(),
        vec![Effect::Operate {
            cluster: "prod-a".into(),
            jid,
            action: JobAction::Restart { from_checkpoint: false }
        }]
    );
    // Cancelling the question does nothing.
    press(&mut app, "C");
    key(&mut app, KeyCode::Esc);
    assert!(app.take_effects().is_empty());
}

#[test]
fn a_failed_job_restarts_from_its_checkpoint() {
    let mut app = sample_app();
    first_job_in_state(&mut app, JobState::Failed);
    press(&mut app, "R");
    assert!(screen(&app, 80, 24).contains("latest completed checkpoint"));
    key(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.take_effects().as_slice(),
        [Effect::Operate { action: JobAction::Restart { from_checkpoint: true }, .. }]
    ));
}

#[test]
fn read_only_refuses_job_actions() {
    let mut app = sample_app();
    app.read_only = true;
    for keys in ["R", "p", "x", "X", "C"] {
        press(&mut app, keys);
        assert!(app.overlay.is_none());
        assert!(app.take_effects().is_empty());
        assert!(app.status.as_ref().unwrap().text.contains("read-only"));
    }
}

#[test]
fn interrupted_restarts_are_offered_one_by_one() {
    let mut app = sample_app();
    let op = |id: i64| flinkdeck::store::journal::Operation {
        id,
        started_ms: NOW_MS,
        updated_ms: NOW_MS,
        os_user: "ops".into(),
        cluster: "prod-a".into(),
        job_id: Some(format!("job{id}")),
        spec_id: Some(1),
        kind: flinkdeck::store::journal::OpKind::Restart,
        params: serde_json::json!({}),
        phase: flinkdeck::store::journal::Phase::Stopped,
        trigger_id: None,
        savepoint: Some("file:/sp/savepoint-1".into()),
        new_job_id: None,
        error: None,
        left_job_state: None,
        owner: None,
        steps: Vec::new(),
    };
    app.on_op_update(OpUpdate::Interrupted(vec![op(7), op(8)]));
    let text = screen(&app, 80, 24);
    assert!(text.contains("job7") && text.contains("file:/sp/savepoint-1"), "{text}");
    press(&mut app, "y");
    assert_eq!(app.take_effects(), vec![Effect::Resume { id: 7, cluster: "prod-a".into() }]);
    assert!(screen(&app, 80, 24).contains("job8"));
    press(&mut app, "n");
    assert_eq!(app.take_effects(), vec![Effect::Abandon { id: 8, cluster: "prod-a".into() }]);
    assert!(app.overlay.is_none());
}

#[test]
fn the_submit_form_turns_into_a_submission() {
    let mut app = sample_app();
    press(&mut app, "n");
    assert!(matches!(app.overlay, Some(Overlay::Form(_))));
    press(&mut app, "orders-v2");
    key(&mut app, KeyCode::Tab);
    press(&mut app, "/opt/jobs/orders.jar");
    key(&mut app, KeyCode::Tab);
    press(&mut app, "com.acme.Orders");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    press(&mut app, "--topic 'orders v2'");
    insta::assert_snapshot!("submit_form_80x24", screen(&app, 80, 24));
    key(&mut app, KeyCode::Enter);
    match app.take_effects().as_slice() {
        [Effect::Submit { cluster, name, program }] => {
            assert_eq!((cluster.as_str(), name.as_str()), ("prod-a", "orders-v2"));
            assert_eq!(program.entry_class.as_deref(), Some("com.acme.Orders"));
            assert_eq!(program.args, vec!["--topic", "orders v2"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(app.overlay.is_none());
}

#[test]
fn copy_and_adopt_forms_are_prefilled_by_the_effects() {
    let mut app = sample_app();
    press(&mut app, "c");
    assert!(matches!(app.take_effects().as_slice(), [Effect::PrepareForm { adopt: false, .. }]));
    press(&mut app, "A");
    let Some(Effect::PrepareForm { cluster, jid, adopt: true }) = app.take_effects().pop() else {
        panic!()
    };
    let program = flinkdeck::store::journal::JarProgram {
        jar_id: Some("abc_job.jar".into()),
        ..Default::default()
    };
    app.on_op_update(OpUpdate::Form(flinkdeck::tui::panes::form::JobForm::adopt(
        &cluster, &jid, "orders", &program,
    )));
    assert!(screen(&app, 80, 24).contains("abc_job.jar"));
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.take_effects().as_slice(), [Effect::Adopt { .. }]));
}

#[test]
fn the_log_viewer_opens_at_the_failure_and_goes_back() {
    use flinkdeck::tui::logops::LogEvent;
    let mut app = sample_app();
    first_job_in_state(&mut app, JobState::Failed);
    press(&mut app, "l");
    let Some(Effect::OpenLogs { cluster, jid, .. }) = app.take_effects().pop() else {
        panic!("no open")
    };
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!("2025-11-21 10:30:{i:02},000 INFO  org.x.Y [] - routine line {i}\n"));
    }
    log.push_str("2025-11-21 10:31:00,000 WARN  org.apache.flink.runtime.taskmanager.Task [] - count (1/1) switched from RUNNING to FAILED with failure cause:\n");
    log.push_str("java.lang.RuntimeException: injected failure\n\tat flinkdeck.sample.SampleJob$CountPerKey.map(SampleJob.java:214)\n");
    log.push_str("2025-11-21 10:31:01,000 ERROR org.x.Y [] - after the failure\n");
    let records = flinkdeck::logs::parse_records(log.as_bytes(), 0);
    app.on_log_event(LogEvent::Opened {
        title: "taskmanager tm-1 · tm.log · exception on taskmanager tm-1".into(),
        cluster,
        jid,
        records,
        anchor: Some(40),
        keep: None,
    });
    let text = screen(&app, 80, 24);
    insta::assert_snapshot!("log_viewer_80x24", text);
    assert!(
        text.contains("taskmanager.Task") && text.contains("    at flinkdeck.sample"),
        "{text}"
    );
    press(&mut app, "e");
    assert!(app.log_view.as_ref().unwrap().current_line().unwrap().contains("after the failure"));
    key(&mut app, KeyCode::Esc);
    assert!(app.log_view.is_none());
    assert_eq!(app.take_effects(), vec![Effect::CloseLogs]);
}

#[test]
fn the_status_line_says_which_jobs_failed_and_which_clusters_went_down() {
    let mut app = sample_app();
    let fleet = common::sample_fleet();
    let mut jobs: Vec<_> = fleet.clusters[0].jobs.iter().map(|j| j.summary.clone()).collect();
    let running = jobs.iter().position(|j| j.state == JobState::Running).unwrap();
    jobs[running].state = JobState::Failed;
    jobs[running].last_modification = NOW_MS + 1000;
    let name = jobs[running].name.clone();
    let mut overview = fleet.clusters[0].overview.clone().unwrap();
    overview.taskmanagers -= 1;
    let report = flinkdeck::fleet::PollReport {
        cluster: "prod-a".into(),
        at_ms: NOW_MS + 2000,
        outcome: Ok(flinkdeck::fleet::ClusterSnapshot { overview, jobs }),
    };
    common::poll(&mut app, report);
    let status = app.status.clone().unwrap();
    assert!(status.is_error);
    assert!(status.text.contains(&format!("FAILED: {name} (prod-a)")), "{}", status.text);
    assert!(status.text.contains("prod-a lost 1 of"), "{}", status.text);

    let down = flinkdeck::fleet::PollReport {
        cluster: "prod-a".into(),
        at_ms: NOW_MS + 4000,
        outcome: Err(flinkdeck::flink::FlinkError::Connect("refused".into())),
    };
    common::poll(&mut app, down);
    assert_eq!(app.status.clone().unwrap().text, "down: prod-a");
}

/// The binary in a pseudo-terminal (`script`, from util-linux) with the mouse on: `q` quits
/// and leaves the terminal as it found it.
#[test]
fn quitting_gives_the_real_terminal_back() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    // Never skipped: `.ci/run` installs util-linux's `script` where it is missing.
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs `script` (util-linux) for a pseudo-terminal"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[ui]\nmouse = true\n[[clusters]]\nname = \"local\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    // A pseudo-terminal without a terminal behind `script` is 0x0: nothing would be drawn.
    let command = format!(
        "stty rows 24 cols 80 && exec '{}' --config '{}' --data-dir '{}'",
        env!("CARGO_BIN_EXE_flinkdeck"),
        config.display(),
        dir.path().display()
    );
    /// Killed if the test fails, so no console outlives it (the pty's hang-up ends it too).
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Running(
        Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("FLINKDECK_CONFIG_DIR", dir.path())
            .env("FLINKDECK_CACHE_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (bytes, inbox) = std::sync::mpsc::channel();
    let mut stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut chunk = [0; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut chunk) {
            let _ = bytes.send(chunk[..n].to_vec());
        }
    });
    let mut text = String::new();
    let read_until = |what: &str, text: &mut String| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !text.contains(what) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match inbox.recv_timeout(left) {
                Ok(chunk) => text.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("no {what:?} in {text:?}"),
            }
        }
    };
    // The first frame is drawn once the terminal is set up: then the key is read raw.
    read_until("\x1b[?1000h", &mut text);
    read_until("local", &mut text);
    child.0.stdin.as_mut().unwrap().write_all(b"q").unwrap();
    read_until("\x1b[?1049l", &mut text);
    assert!(child.0.wait().unwrap().success(), "{text:?}");
    while let Ok(chunk) = inbox.recv_timeout(std::time::Duration::from_secs(5)) {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let quit = text.find("local").unwrap();
    for restored in ["\x1b[?1000l", "\x1b[?1049l", "\x1b[?25h"] {
        assert!(text[quit..].contains(restored), "{restored:?} in {text:?}");
    }
}

fn alert(id: i64, acked: bool) -> flinkdeck::store::alerting::AlertRecord {
    flinkdeck::store::alerting::AlertRecord {
        id,
        fingerprint: format!("job_failed|prod-a|j{id}"),
        rule: "job_failed".into(),
        cluster: "prod-a".into(),
        job_id: Some(format!("j{id}")),
        job_name: Some(format!("orders-{id}")),
        jobs: Vec::new(),
        summary: format!("job orders-{id} FAILED"),
        cause: Some("java.lang.RuntimeException: boom".into()),
        action: Some("restarted automatically 1/3 in 30m".into()),
        link: Some(format!("http://127.0.0.1:8081/#/job/running/j{id}/overview")),
        started_ms: NOW_MS - 60_000,
        updated_ms: NOW_MS - 60_000,
        resolved_ms: None,
        resolution: None,
        acked_by: acked.then(|| "ana".into()),
        acked_ms: acked.then_some(NOW_MS),
    }
}

fn watchdog_view() -> flinkdeck::watchdog::WatchdogView {
    use flinkdeck::store::alerting::Silence;
    use flinkdeck::store::outbox::ChannelHealth;
    let mut resolved = alert(4, false);
    resolved.resolved_ms = Some(NOW_MS - 5_000);
    resolved.resolution = Some("back RUNNING as job j5 after 4.1 s".into());
    flinkdeck::watchdog::WatchdogView {
        active: true,
        alerts: vec![alert(1, false), alert(2, false), alert(3, true), resolved],
        channels: vec![ChannelHealth {
            channel: "ops".into(),
            broken: true,
            pending: 2,
            last_error: Some("404 Not Found: no such hook".into()),
            ..Default::default()
        }],
        silences: vec![Silence {
            id: 7,
            cluster: Some("prod-b".into()),
            job: None,
            rule: None,
            starts_ms: NOW_MS - 1_000,
            ends_ms: NOW_MS + 3_600_000,
            created_by: "ana".into(),
            comment: Some("maintenance".into()),
        }],
        ..Default::default()
    }
}

#[test]
fn the_header_counts_unhandled_alerts_and_names_a_broken_channel() {
    let mut app = sample_app();
    assert!(!screen(&app, 120, 24).lines().next().unwrap().contains("alert"));
    app.on_watchdog(watchdog_view());
    let header = screen(&app, 120, 24).lines().next().unwrap().to_string();
    assert!(header.contains("· 2 alerts ! "), "the acknowledged one is not counted: {header}");
    assert!(header.contains("channel ops broken"), "{header}");
}

#[test]
fn the_alerts_pane_acknowledges_silences_and_tests() {
    use flinkdeck::tui::alertops::AlertRequest;
    let mut app = sample_app();
    app.on_watchdog(watchdog_view());
    press(&mut app, "a");
    app.on_resize(120, 30);
    let text = screen(&app, 120, 30);
    insta::assert_snapshot!(text);
    for expected in ["BROKEN", "FIRING", "ACKED", "RESOLVED", "maintenance", "boom"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    press(&mut app, "a");
    assert_eq!(app.take_effects(), vec![Effect::Alert(AlertRequest::Ack { id: 1 })]);
    press(&mut app, "s");
    assert!(matches!(app.overlay, Some(Overlay::Silence(_))));
    // The duration field has the focus: a typo is said in the form, nothing is lost.
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    press(&mut app, "soon");
    key(&mut app, KeyCode::Enter);
    assert!(matches!(&app.overlay, Some(Overlay::Silence(form)) if form.error.is_some()));
    for _ in 0..4 {
        key(&mut app, KeyCode::Backspace);
    }
    press(&mut app, "30m");
    key(&mut app, KeyCode::Enter);
    match app.take_effects().as_slice() {
        [Effect::Alert(AlertRequest::Silence(silence))] => {
            assert_eq!(silence.cluster.as_deref(), Some("prod-a"));
            assert_eq!(silence.job.as_deref(), Some("orders-1"));
            assert_eq!(silence.rule.as_deref(), Some("job_failed"));
            assert_eq!(silence.ends_ms - silence.starts_ms, 30 * 60_000);
        }
        other => panic!("{other:?}"),
    }
    press(&mut app, "g");
    press(&mut app, "t");
    assert_eq!(app.take_effects(), vec![Effect::Alert(AlertRequest::TestChannel("ops".into()))]);
    press(&mut app, "G");
    press(&mut app, "x");
    assert_eq!(app.take_effects(), vec![Effect::Alert(AlertRequest::ExpireSilence { id: 7 })]);
    key(&mut app, KeyCode::Esc);
    assert!(app.alerts.is_none(), "esc goes back to the job list");
}

#[test]
fn marked_jobs_restart_together_and_those_not_back_stay_marked() {
    use flinkdeck::ops::recovery::{Outcome, Recovery};
    let mut app = sample_app();
    let failed: Vec<String> = app
        .jobs
        .rows()
        .iter()
        .filter_map(|r| r.get(&app.fleet))
        .filter(|(_, j)| j.summary.state == JobState::Failed)
        .map(|(_, j)| j.summary.jid.clone())
        .collect();
    assert!(failed.len() >= 2, "the sample has FAILED jobs to mark");
    press(&mut app, "M");
    assert_eq!(app.jobs.marked.len(), failed.len());
    first_job_in_state(&mut app, JobState::Running);
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.jobs.marked.len(), failed.len() + 1, "space marks the selected job");
    assert!(screen(&app, 120, 24).contains(&format!("{} marked", failed.len() + 1)));
    press(&mut app, "R");
    let text = screen(&app, 120, 40);
    assert!(text.contains(&format!("Restart {} marked jobs?", failed.len() + 1)), "{text}");
    assert!(app.take_effects().is_empty(), "nothing happens before the answer");
    press(&mut app, "y");
    let targets = match app.take_effects().as_slice() {
        [Effect::Recover(targets)] => targets.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(targets.iter().filter(|t| t.from_checkpoint).count(), failed.len());
    let recoveries: Vec<Recovery> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| Recovery {
            cluster: t.cluster.clone(),
            job_id: t.job_id.clone(),
            name: t.name.clone(),
            outcome: if i == 0 { Outcome::NoSpec } else { Outcome::Restarted },
            new_job_id: (i > 0).then(|| format!("new{i}")),
            restored_from: (i > 0).then(|| "file:/chk-1".into()),
            error: (i == 0).then(|| "no launch spec runs it".into()),
        })
        .collect();
    app.on_op_update(OpUpdate::RecoveryDone(recoveries));
    let text = screen(&app, 120, 40);
    assert!(text.contains(&format!("1 of {} jobs were not restarted", targets.len())), "{text}");
    assert!(text.contains("no launch spec runs it"), "{text}");
    assert_eq!(app.jobs.marked.len(), 1, "only the job not back stays marked");
    assert!(app.jobs.marked.contains(&(targets[0].cluster.clone(), targets[0].job_id.clone())));
    key(&mut app, KeyCode::Esc);
    press(&mut app, "U");
    assert!(app.jobs.marked.is_empty());
}
