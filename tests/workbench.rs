//! The SQL workbench driven by keys and by the gateway worker's events, without a gateway:
//! what it asks for (effects) and what it shows.

mod common;

use common::{NOW_MS, sample_app, screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use flinkdeck::gateway::worker::{SqlCommand, SqlEvent};
use flinkdeck::gateway::{GatewayError, ResultPage};
use flinkdeck::sql::Position;
use flinkdeck::store::sql::{Outcome, StatementRecord, TabChanges};
use flinkdeck::tui::app::{App, Effect, Screen};
use flinkdeck::tui::workbench::{Connection, Workbench};

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }
}

fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// The console with a connected gateway, switched to the workbench.
fn workbench_app() -> App {
    let mut app = sample_app();
    app.on_resize(100, 30);
    app.workbench.connection = Connection::Connected {
        url: "http://gw:8083".into(),
        version: "V4".into(),
        session: "5f3e0c1a-session".into(),
    };
    key(&mut app, KeyCode::F(3));
    assert_eq!(app.screen, Screen::Workbench);
    assert_eq!(
        app.take_effects(),
        [Effect::Sql(SqlCommand::Catalog { path: Vec::new(), kind: None })],
        "opening the workbench loads the catalogs"
    );
    app
}

/// A fetch answer as the gateway sends it (rowFormat=JSON).
fn page(data: &str) -> ResultPage {
    let body = format!(
        r#"{{"resultType":"PAYLOAD","isQueryResult":true,"resultKind":"SUCCESS_WITH_CONTENT",
        "results":{{"columns":[
          {{"name":"word","logicalType":{{"type":"VARCHAR","nullable":true,"length":2147483647}},"comment":null}},
          {{"name":"cnt","logicalType":{{"type":"BIGINT","nullable":true}},"comment":null}}],
          "rowFormat":"JSON","data":[{data}]}},
        "nextResultUri":"/v2/sessions/s/operations/o/result/1?rowFormat=JSON"}}"#
    );
    ResultPage::from_json(body.as_bytes()).unwrap()
}

fn feed_page(app: &mut App, data: &str) {
    let page = page(data);
    app.on_sql_event(SqlEvent::Columns(page.columns));
    app.on_sql_event(SqlEvent::Rows(page.changes));
}

#[test]
fn an_aggregation_streams_into_the_grid_as_a_table_and_as_a_changelog() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT word, COUNT(*) AS cnt\nFROM words GROUP BY word;\n");
    ctrl(&mut app, 'e');
    let statement = "SELECT word, COUNT(*) AS cnt\nFROM words GROUP BY word".to_string();
    assert_eq!(app.take_effects(), [Effect::Sql(SqlCommand::Run(vec![statement.clone()]))]);
    app.on_sql_event(SqlEvent::Started { index: 0, statement });
    feed_page(
        &mut app,
        r#"{"kind":"INSERT","fields":["flink",1]},{"kind":"INSERT","fields":["sql",1]},
           {"kind":"UPDATE_BEFORE","fields":["flink",1]},{"kind":"UPDATE_AFTER","fields":["flink",2]},
           {"kind":"INSERT","fields":[null,5]},{"kind":"INSERT","fields":["NULL",6]}"#,
    );
    let text = screen(&app, 100, 30);
    insta::assert_snapshot!("workbench_table_100x30", text);
    assert!(text.contains("4 rows"), "{text}");
    let results = app.workbench.results.as_ref().unwrap();
    assert_eq!(results.shown().row_count(), 4);
    // F4 focuses the results; m shows the changes with their kinds.
    key(&mut app, KeyCode::F(4));
    type_text(&mut app, "m");
    let text = screen(&app, 100, 30);
    assert!(text.contains("6 changes"), "{text}");
    assert!(text.contains("-U") && text.contains("+U"), "{text}");
    // y copies the cell under the cursor: the second change, +I sql.
    type_text(&mut app, "jy");
    assert_eq!(app.take_effects(), [Effect::CopyToClipboard("sql".into())]);
    app.on_sql_event(SqlEvent::Finished { index: 0, canceled: false });
    assert!(!app.workbench.is_running());
}

#[test]
fn a_syntax_error_is_marked_where_flink_points() {
    let mut app = workbench_app();
    type_text(&mut app, "SET 'parallelism.default' = '1';\n\nSELECT *\n  FROMM words;\n");
    key(&mut app, KeyCode::F(8));
    let Some(Effect::Sql(SqlCommand::Run(statements))) = app.take_effects().pop() else {
        panic!("f8 runs the whole tab");
    };
    assert_eq!(statements.len(), 2);
    app.on_sql_event(SqlEvent::Started { index: 0, statement: statements[0].clone() });
    app.on_sql_event(SqlEvent::Finished { index: 0, canceled: false });
    assert!(app.workbench.is_running(), "the second statement is still to come");
    app.on_sql_event(SqlEvent::Started { index: 1, statement: statements[1].clone() });
    app.on_sql_event(SqlEvent::Failed {
        index: 1,
        error: GatewayError::Sql {
            summary: "Non-query expression encountered in illegal context".into(),
            root_cause: "org.apache.calcite.sql.parser.SqlParseException: ...".into(),
            line: Some(2),
            column: Some(3),
        },
    });
    // Line 2, column 3 of the statement is script line 4 ("  FROMM"), column 3.
    assert_eq!(app.workbench.tab().error_at, Some(Position { line: 3, column: 2 }));
    let text = screen(&app, 100, 30);
    assert!(text.contains("line 4, column 3: Non-query expression"), "{text}");
    assert!(!app.workbench.is_running());
}

#[test]
fn completion_offers_keywords_and_catalog_names() {
    let mut app = workbench_app();
    app.on_sql_event(SqlEvent::Catalog {
        path: Vec::new(),
        result: Ok(vec![flinkdeck::tui::workbench::catalog::Node::new(
            flinkdeck::tui::workbench::catalog::NodeKind::Catalog,
            vec!["default_catalog".into()],
            None,
        )]),
    });
    type_text(&mut app, "SEL");
    app.on_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL));
    let asked = app.take_effects();
    assert_eq!(asked, [Effect::Sql(SqlCommand::Complete { statement: "SEL".into(), position: 3 })]);
    let completion = app.workbench.completion.clone().unwrap();
    assert_eq!(completion.chosen(), Some("SELECT"), "{completion:?}");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.workbench.tab().text(), "SELECT");
    type_text(&mut app, " * FROM defa");
    app.on_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL));
    app.on_sql_event(SqlEvent::Completions { candidates: vec!["default_database".into()] });
    let completion = app.workbench.completion.clone().unwrap();
    assert_eq!(completion.candidates[0], "default_database", "gateway hints come first");
    assert!(completion.candidates.contains(&"default_catalog".to_string()), "{completion:?}");
    // Nothing anywhere: the pop-up closes and says so.
    key(&mut app, KeyCode::Esc);
    type_text(&mut app, " zzq");
    app.on_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL));
    app.on_sql_event(SqlEvent::Completions { candidates: Vec::new() });
    assert!(app.workbench.completion.is_none());
    assert!(screen(&app, 100, 30).contains("nothing completes \"zzq\""));
}

#[test]
fn history_recalls_and_reruns_a_statement() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT 1;");
    ctrl(&mut app, 'r');
    assert_eq!(app.take_effects(), [Effect::SearchHistory(String::new())]);
    type_text(&mut app, "ord");
    assert_eq!(app.take_effects().last(), Some(&Effect::SearchHistory("ord".into())));
    let record = StatementRecord {
        id: 7,
        gateway: "http://gw:8083".into(),
        session_id: None,
        statement: "SELECT * FROM orders".into(),
        started_ms: NOW_MS - 60_000,
        duration_ms: Some(120),
        outcome: Outcome::Ok,
        error: None,
        job_id: None,
        rows: Some(3),
    };
    app.on_sql_event(SqlEvent::History(vec![record]));
    assert!(screen(&app, 100, 30).contains("SELECT * FROM orders"));
    ctrl(&mut app, 'e');
    assert!(app.workbench.history.is_none());
    assert_eq!(
        app.workbench.tabs.len(),
        2,
        "a tab with text is kept: the statement opens a new one"
    );
    assert_eq!(app.workbench.tab().text(), "SELECT * FROM orders;");
    assert_eq!(
        app.take_effects(),
        [Effect::Sql(SqlCommand::Run(vec!["SELECT * FROM orders".into()]))]
    );
}

#[test]
fn an_insert_shows_its_job_jumps_to_it_and_can_be_kept_as_a_spec() {
    let mut app = workbench_app();
    let (cluster, jid, name) = {
        let (cluster, job) = app.jobs.selected_job(&app.fleet).unwrap();
        (cluster.to_string(), job.summary.jid.clone(), job.summary.name.clone())
    };
    type_text(&mut app, "INSERT INTO sink SELECT * FROM words;");
    ctrl(&mut app, 'e');
    app.take_effects();
    app.on_sql_event(SqlEvent::Started {
        index: 0,
        statement: "INSERT INTO sink SELECT * FROM words".into(),
    });
    let script = "CREATE TABLE words (w STRING);\nINSERT INTO sink SELECT * FROM words;\n";
    app.on_sql_event(SqlEvent::Job { id: jid.clone(), script: Some(script.into()) });
    assert!(app.workbench.started_jobs.contains(&jid));
    app.on_sql_event(SqlEvent::Finished { index: 0, canceled: false });
    key(&mut app, KeyCode::F(4));
    app.take_effects();
    type_text(&mut app, "K");
    assert_eq!(
        app.take_effects(),
        [Effect::KeepSqlJob {
            cluster: Some(cluster),
            job_id: jid.clone(),
            name,
            script: script.into()
        }]
    );
    type_text(&mut app, "J");
    assert_eq!(app.screen, Screen::Fleet);
    assert_eq!(app.jobs.selected_job(&app.fleet).unwrap().1.summary.jid, jid);
    assert!(screen(&app, 100, 30).contains("sql "), "the job list marks workbench jobs");
}

#[test]
fn a_query_shows_its_job_but_cannot_be_kept_as_a_spec() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT * FROM words;");
    ctrl(&mut app, 'e');
    app.take_effects();
    app.on_sql_event(SqlEvent::Started { index: 0, statement: "SELECT * FROM words".into() });
    let jid = "ab".repeat(16);
    app.on_sql_event(SqlEvent::Job { id: jid.clone(), script: None });
    app.on_sql_event(SqlEvent::Finished { index: 0, canceled: false });
    let text = screen(&app, 120, 30);
    assert!(text.contains(&format!("job {jid}")), "the results' title names it:\n{text}");
    assert!(!text.contains("K keeps it"), "{text}");
    key(&mut app, KeyCode::F(4));
    app.take_effects();
    type_text(&mut app, "K");
    assert_eq!(app.take_effects(), []);
    let text = screen(&app, 120, 30);
    assert!(text.contains("only an INSERT or a statement set can be kept"), "{text}");
}

#[test]
fn tabs_come_back_as_they_were_left() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT 1;");
    ctrl(&mut app, 'n');
    type_text(&mut app, "SHOW TABLES;\nSHOW JOBS;");
    // Closing a tab with text asks first (ctrl-w deletes a word in other editors).
    ctrl(&mut app, 'w');
    assert_eq!(app.workbench.tabs.len(), 2);
    assert!(screen(&app, 100, 30).contains("ctrl-w again closes it"));
    type_text(&mut app, " ");
    key(&mut app, KeyCode::Backspace);
    ctrl(&mut app, 'w');
    assert_eq!(app.workbench.tabs.len(), 2, "another key in between asks again");
    let saved = app.workbench.saved_tabs();
    let restored = Workbench::new(saved.clone(), app.workbench.active);
    assert_eq!(restored.saved_tabs(), saved);
    assert_eq!(restored.active, 1);
    assert_eq!(restored.tab().cursor(), (1, 10));
    // Saved as they change (a dropped SSH session loses nothing), once per change.
    app.on_tick(NOW_MS + 1_000);
    let shown = Some(saved[1].id.clone());
    assert_eq!(
        app.take_effects(),
        [Effect::SaveTabs(TabChanges { saved: saved.clone(), closed: Vec::new(), active: shown })]
    );
    app.on_tick(NOW_MS + 2_000);
    assert!(app.take_effects().is_empty());
    // Quitting saves what changed since the last tick.
    type_text(&mut app, "\n");
    ctrl(&mut app, 'q');
    assert!(app.should_quit);
    let edited = app.workbench.saved_tabs().remove(1);
    assert_eq!(
        app.take_effects(),
        [Effect::SaveTabs(TabChanges { saved: vec![edited], ..TabChanges::default() })]
    );
}

/// The one save the app asked for.
fn tab_changes(app: &mut App) -> TabChanges {
    match app.take_effects().as_slice() {
        [Effect::SaveTabs(changes)] => changes.clone(),
        other => panic!("expected one save, got {other:?}"),
    }
}

/// Consoles sharing one database write only their own changes, so the payload is exactly
/// the edited tabs, the closed ones and a new active tab.
#[test]
fn only_what_changed_in_the_tabs_is_saved() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT 1;");
    ctrl(&mut app, 'n');
    type_text(&mut app, "SELECT 2;");
    ctrl(&mut app, 'n');
    app.on_tick(NOW_MS + 1_000);
    app.take_effects();
    let ids: Vec<String> = app.workbench.tabs.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 3, "{ids:?}");
    // Back to the second tab and edit it: that tab and the new active one, nothing else.
    app.on_key(KeyEvent::new(KeyCode::Left, KeyModifiers::ALT));
    type_text(&mut app, " -- two");
    app.on_tick(NOW_MS + 2_000);
    let changes = tab_changes(&mut app);
    let saved: Vec<(&str, &str)> =
        changes.saved.iter().map(|t| (t.id.as_str(), t.text.as_str())).collect();
    assert_eq!(saved, [(ids[1].as_str(), "SELECT 2; -- two")]);
    assert_eq!((changes.closed, changes.active), (Vec::new(), Some(ids[1].clone())));
    // Closing the empty third tab deletes only it (the second is shown again, as saved).
    app.on_key(KeyEvent::new(KeyCode::Right, KeyModifiers::ALT));
    ctrl(&mut app, 'w');
    app.on_tick(NOW_MS + 3_000);
    let changes = tab_changes(&mut app);
    assert_eq!(changes.saved, []);
    assert_eq!((changes.closed, changes.active), (vec![ids[2].clone()], None));
}

#[test]
fn without_a_gateway_the_workbench_says_how_to_configure_one() {
    let mut app = sample_app();
    key(&mut app, KeyCode::F(3));
    assert!(app.take_effects().is_empty());
    let text = screen(&app, 100, 30);
    assert!(text.contains("no SQL gateway configured"), "{text}");
    ctrl(&mut app, 'e');
    assert!(app.take_effects().is_empty());
    // Help starts with the keys of where it was asked for.
    key(&mut app, KeyCode::F(1));
    let help = screen(&app, 100, 30);
    let row_of = |title: &str| help.lines().position(|l| l.contains(title));
    assert!(row_of("SQL editor").unwrap() < row_of("Job list").unwrap_or(usize::MAX), "{help}");
    assert!(help.contains("run the statement under the cursor"), "{help}");
}

/// The worker against gateways that are down or answer garbage: it says so at once, and the
/// console shows it instead of waiting.
#[tokio::test]
async fn a_down_or_garbled_gateway_is_reported_not_waited_for() {
    use common::sim::{Behavior, SimCluster};
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let garbage = SimCluster::start(Behavior::Garbage, 0, 0).await.unwrap();
    let failing = SimCluster::start(Behavior::InternalError, 0, 0).await.unwrap();
    for (url, expected) in [
        (format!("http://127.0.0.1:{closed}"), "cannot connect"),
        (garbage.url(), "unexpected response"),
        (failing.url(), "disk full"),
    ] {
        let store =
            flinkdeck::store::SharedStore::new(flinkdeck::store::Store::open_in_memory().unwrap());
        let (events, mut inbox) = tokio::sync::mpsc::unbounded_channel();
        let auth = flinkdeck::config::Auth::default();
        let timeout = std::time::Duration::from_secs(5);
        let gateway = flinkdeck::gateway::GatewayClient::new(&url, &auth, timeout).unwrap();
        let worker = flinkdeck::gateway::worker::spawn(gateway, store, events);
        worker.send(SqlCommand::Run(vec!["SELECT 1".into()])).unwrap();
        let event =
            tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv()).await.unwrap();
        let Some(SqlEvent::Unavailable(why)) = event else { panic!("{url}: {event:?}") };
        assert!(why.contains(expected), "{url}: {why}");

        let mut app = workbench_app();
        type_text(&mut app, "SELECT 1;");
        ctrl(&mut app, 'e');
        app.take_effects();
        app.on_sql_event(SqlEvent::Unavailable(why.clone()));
        assert!(!app.workbench.is_running(), "a run waiting on the gateway is given up");
        assert!(screen(&app, 100, 30).contains(&why[..why.len().min(40)]));
    }
}

#[test]
fn a_tab_with_text_closes_on_the_second_ctrl_w() {
    let mut app = workbench_app();
    ctrl(&mut app, 'n');
    type_text(&mut app, "SELECT 1;");
    ctrl(&mut app, 'w');
    assert_eq!(app.workbench.tabs.len(), 2, "the first ctrl-w only asks");
    assert_eq!(app.workbench.tab().text(), "SELECT 1;");
    ctrl(&mut app, 'w');
    let titles: Vec<&str> = app.workbench.tabs.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["query 1"], "the second ctrl-w closes the tab with text");
    ctrl(&mut app, 'n');
    ctrl(&mut app, 'w');
    assert_eq!(app.workbench.tabs.len(), 1, "an empty tab closes at once");
}

#[test]
fn the_tab_is_submitted_as_a_restartable_sql_job() {
    let mut app = workbench_app();
    type_text(&mut app, "SELECT * FROM words;");
    ctrl(&mut app, 's');
    assert!(app.workbench.prompt.is_none());
    assert!(screen(&app, 100, 30).contains("cannot run queries"), "only a job script is submitted");

    ctrl(&mut app, 'n');
    let script = "CREATE TEMPORARY TABLE sink (w STRING) WITH ('connector' = 'blackhole');\n\
                  INSERT INTO sink SELECT * FROM words;";
    type_text(&mut app, script);
    ctrl(&mut app, 's');
    assert!(screen(&app, 100, 30).contains("submit the tab as a restartable SQL job named"));
    for _ in 0.."query-2".len() {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "word-sink\n");
    assert_eq!(
        app.take_effects(),
        [Effect::SubmitSql { name: "word-sink".into(), script: script.into() }]
    );
}
