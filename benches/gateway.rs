//! Flink's SQL Gateway in the sandbox, measured for real (Flink 2.3, this machine):
//! - start-up on first use: the jar fetched with Maven into an empty repository, then
//!   `bin/sql-gateway.sh start` until `/v1/info` answers;
//! - warm start-up (the jar in place), three times;
//! - in the console's own loop on a test terminal, the time from `ctrl-e` on `SELECT 1` to
//!   the row shown, ten times on one session;
//! - for comparison, the gateway's own floor: `SELECT 1` over raw HTTP, its result asked for
//!   every 5 ms until the row is there.
//!
//! `cargo bench --bench gateway` (about two minutes; it starts its own cluster and stops it).

#[path = "../tests/common/harness.rs"]
mod harness;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use flinkdeck::paths::Paths;
use flinkdeck::sandbox::gateway::{self, GatewaySpec};
use flinkdeck::sandbox::{self, GatewayMode, SandboxOptions, provision};
use harness::{Rig, console, ctrl, drive, key, shows_within, type_text};
use serde_json::{Value, json};

const VERSION: &str = sandbox::DEFAULT_FLINK_VERSION;
const RUNS: usize = 10;

fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(bench());
}

async fn bench() {
    let cache = Paths::resolve(None).expect("a cache dir").cache_dir;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-gateway");
    let home = provision::flink_home(&cache, VERSION).expect("Flink from PyPI");
    let options = SandboxOptions {
        root: root.clone(),
        cache_dir: cache.clone(),
        flink_version: VERSION.into(),
        clusters: vec!["bench".into()],
        slots: 4,
        jobs: Vec::new(),
        gateway: GatewayMode::Required,
    };
    let state = sandbox::up(&options).await.expect("the sandbox starts");
    // Stopped even if the bench dies half-way.
    sandbox::stop_when_process_exits(&root, std::process::id()).expect("the sandbox watchdog");
    let cluster = state.clusters[0].url();
    let extra = GatewaySpec::new(root.join("gateway-startup"), &cluster).unwrap();

    // First use: the jar is not in opt/ and Maven's repository is empty.
    let jar = home.join(format!("opt/flink-sql-gateway-{VERSION}.jar"));
    let aside = root.join("flink-sql-gateway.jar.aside");
    std::fs::rename(&jar, &aside).expect("the sandbox installed the jar");
    let empty_cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let installed = gateway::install(&home, empty_cache.path(), VERSION);
    let fetched = started.elapsed();
    if installed.is_err() {
        std::fs::rename(&aside, &jar).unwrap();
    }
    installed.expect("the jar is fetched with Maven");
    let _ = std::fs::remove_file(&aside);
    let first = start_once(&home, &extra).await + fetched;
    println!(
        "gateway start-up, first use: {:.1} s (Maven fetch {:.1} s)",
        first.as_secs_f64(),
        fetched.as_secs_f64()
    );
    let warm: Vec<Duration> = {
        let mut runs = Vec::new();
        for _ in 0..3 {
            runs.push(start_once(&home, &extra).await);
        }
        runs
    };
    println!("gateway start-up, warm: {}", seconds(&warm));

    let url = state.gateway.clone().unwrap().url();
    let (console_runs, raw_runs) = ctrl_e_to_row(&cluster, &url).await;
    report("ctrl-e on SELECT 1 to the row shown", console_runs);
    report("raw HTTP SELECT 1 to the row, polled every 5 ms", raw_runs);
    sandbox::down(&root);
}

async fn start_once(home: &std::path::Path, spec: &GatewaySpec) -> Duration {
    let started = Instant::now();
    gateway::start(home, spec).expect("the gateway starts");
    gateway::wait_ready(spec, Duration::from_secs(120)).await.expect("the gateway answers");
    let took = started.elapsed();
    gateway::stop(spec);
    took
}

fn seconds(runs: &[Duration]) -> String {
    let texts: Vec<String> = runs.iter().map(|d| format!("{:.1} s", d.as_secs_f64())).collect();
    texts.join(", ")
}

fn report(what: &str, runs: Vec<Duration>) {
    let mut steady = runs[1..].to_vec();
    steady.sort();
    println!(
        "{what}: first {} ms, then median {} ms (min {} ms, max {} ms, {} runs)",
        runs[0].as_millis(),
        steady[steady.len() / 2].as_millis(),
        steady[0].as_millis(),
        steady[steady.len() - 1].as_millis(),
        steady.len()
    );
}

/// The gateway's floor: `SELECT 1` over raw HTTP in a session of its own, the result asked
/// for every 5 ms until the row is there.
struct RawHttp {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl RawHttp {
    async fn open(base: &str) -> Self {
        let http = reqwest::Client::new();
        let answer = http.post(format!("{base}/v4/sessions")).json(&json!({})).send().await;
        let answer: Value = answer.unwrap().json().await.unwrap();
        let session = answer["sessionHandle"].as_str().unwrap().to_string();
        Self { http, base: base.to_string(), session }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    async fn select_1(&self) -> Duration {
        let session = &self.session;
        let started = Instant::now();
        let body = json!({"statement": "SELECT 1"});
        let path = format!("/v4/sessions/{session}/statements");
        let answer = self.call(reqwest::Method::POST, &path, Some(body)).await;
        let operation = answer["operationHandle"].as_str().unwrap().to_string();
        let mut uri =
            format!("/v4/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON");
        loop {
            let page = self.call(reqwest::Method::GET, &uri, None).await;
            if page["results"]["data"].as_array().is_some_and(|rows| !rows.is_empty()) {
                break;
            }
            uri = page["nextResultUri"].as_str().unwrap_or(&uri).to_string();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        let close = format!("/v4/sessions/{session}/operations/{operation}/close");
        self.call(reqwest::Method::DELETE, &close, None).await;
        took
    }
}

/// `ctrl-e` on `SELECT 1`, [`RUNS`] times, each until the results title counts the row; after
/// each, the same statement over raw HTTP (so both see the same JVM warmth).
async fn ctrl_e_to_row(cluster: &str, gateway: &str) -> (Vec<Duration>, Vec<Duration>) {
    let Rig { dir, file, screen, mut terminal, keys, input } = Rig::new(&[("bench", cluster)]);
    let mut config = std::fs::read_to_string(&file).unwrap();
    config.push_str(&format!("[gateway]\nurl = \"{gateway}\"\ncluster = \"bench\"\n"));
    std::fs::write(&file, config).unwrap();
    let console = console(dir.path(), file);
    let raw = RawHttp::open(gateway).await;
    let (mut console_runs, mut raw_runs) = (Vec::new(), Vec::new());
    let driver = async {
        keys.send(key(KeyCode::F(3))).unwrap();
        shows_within(&screen, &[" · session "], Duration::from_secs(60)).await;
        type_text(&keys, "SELECT 1");
        for _ in 0..RUNS {
            let pressed = Instant::now();
            keys.send(ctrl('e')).unwrap();
            // The run starts (its results reset to 0 rows), then the row arrives.
            let mut reset = false;
            loop {
                let text = screen.lock().unwrap().text.clone();
                reset |= text.contains("table running 0 rows");
                if reset && text.contains(" 1 rows") {
                    console_runs.push(pressed.elapsed());
                    break;
                }
                assert!(pressed.elapsed() < Duration::from_secs(60), "no row:\n{text}");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            shows_within(&screen, &["table done 1 rows"], Duration::from_secs(60)).await;
            // A person reads the row before running again.
            tokio::time::sleep(Duration::from_secs(1)).await;
            raw_runs.push(raw.select_1().await);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        keys.send(key(KeyCode::Esc)).unwrap();
        keys.send(key(KeyCode::F(2))).unwrap();
        keys.send(key(KeyCode::Char('q'))).unwrap();
    };
    drive(&mut terminal, input, console, driver).await;
    (console_runs, raw_runs)
}
