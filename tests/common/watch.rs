//! `flinkdeck watch` processes and a loopback webhook, for the tests that run the watchdog
//! through the real binary.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The webhook: every message (body and Idempotency-Key) in arrival order; answers 200,
/// except that the first `hang` requests get no answer at all (a receiver that took the
/// message and then hung, or a sender that died before it heard back).
#[derive(Clone, Default)]
pub struct Hook(Arc<Mutex<Vec<(Value, String)>>>);

impl Hook {
    pub async fn start() -> (Self, String) {
        Self::start_hanging(0).await
    }

    pub async fn start_hanging(hang: usize) -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hook = Hook::default();
        let log = hook.0.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 8192];
                    let (head, body) = loop {
                        let Ok(n) = stream.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        data.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&data).to_string();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if body.len() >= length {
                                break (head.to_string(), body.to_string());
                            }
                        }
                    };
                    let key = head
                        .lines()
                        .find_map(|l| {
                            l.split_once(':')
                                .filter(|(n, _)| n.eq_ignore_ascii_case("idempotency-key"))
                                .map(|(_, v)| v.trim().to_string())
                        })
                        .unwrap_or_default();
                    let seen = {
                        let mut log = log.lock().unwrap();
                        if let Ok(json) = serde_json::from_str(&body) {
                            log.push((json, key));
                        }
                        log.len()
                    };
                    if seen <= hang {
                        // Hold the connection open and never answer.
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        (hook, url)
    }

    pub fn messages(&self) -> Vec<(Value, String)> {
        self.0.lock().unwrap().clone()
    }
}

pub fn flinkdeck(home: &Path, cluster: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flinkdeck"));
    command
        .env("FLINKDECK_CONFIG_DIR", home.join("config"))
        .env("FLINKDECK_DATA_DIR", home.join("data"))
        .env("RUST_BACKTRACE", "0")
        .arg("--config")
        .arg(home.join("config.toml"))
        .arg("--cluster")
        .arg(cluster);
    command
}

pub fn run(home: &Path, cluster: &str, args: &[&str]) -> String {
    let output = flinkdeck(home, cluster).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A watcher process; killed when dropped.
pub struct Watcher {
    pub child: Child,
    pub port: u16,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_watcher(home: &Path, cluster: &str) -> Watcher {
    let port = free_port();
    let log = std::fs::File::create(home.join(format!("watch-{port}.log"))).unwrap();
    let child = flinkdeck(home, cluster)
        .args(["watch", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Watcher { child, port }
}

pub async fn healthz(port: u16) -> Option<Value> {
    let answer = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.ok()?;
    answer.json().await.ok()
}

pub async fn active_watchers(watchers: &[&Watcher]) -> Vec<u16> {
    let mut active = Vec::new();
    for w in watchers {
        if healthz(w.port).await.is_some_and(|h| h["active"] == true) {
            active.push(w.port);
        }
    }
    active
}

pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
