//! Alert channels against loopback receivers: `flinkdeck alert test NAME` sends the documented
//! webhook JSON with its `Idempotency-Key`, and says when the receiver fails or refuses.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the receiver read it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on loopback that answers every request with `status` and `body`.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(status: u16, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else { return };
                    log.lock().unwrap().push(request);
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, received }
    }

    fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.lines();
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received { path, headers, body: String::from_utf8_lossy(&body).to_string() })
}

/// `flinkdeck --config <file with one webhook channel "ops" at url> alert test NAME`.
fn alert_test(url: &str, name: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[[channels]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{url}\"\n"),
    )
    .unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
        .env("FLINKDECK_DATA_DIR", dir.path().join("data"))
        .env("RUST_BACKTRACE", "0")
        .arg("--config")
        .arg(&config)
        .args(["alert", "test", name])
        .output()
        .unwrap()
}

async fn alert_test_async(url: &str, name: &str) -> std::process::Output {
    let (url, name) = (url.to_string(), name.to_string());
    tokio::task::spawn_blocking(move || alert_test(&url, &name)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_message_carries_the_documented_json_and_its_idempotency_key() {
    let receiver = Receiver::start(200, "{}").await;
    let output = alert_test_async(&receiver.url, "ops").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("sent a test message to ops"), "{stdout}");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "sent once");
    let request = &requests[0];
    assert_eq!(request.path, "/hook");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    for field in ["key", "status", "rule", "cluster", "jobs", "text"] {
        assert!(body.get(field).is_some(), "{field} in {body}");
    }
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["rule"], "test");
    assert_eq!(body["jobs"], serde_json::json!([]));
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("test-ops-"), "{key}");
    assert_eq!(request.header("Idempotency-Key"), Some(key));
    assert!(request.header("content-type").is_some_and(|t| t.starts_with("application/json")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_refusing_receiver_is_said_and_the_command_fails() {
    let down = Receiver::start(503, "{\"error\":\"maintenance\"}").await;
    let output = alert_test_async(&down.url, "ops").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("ops did not take the test message: 503"), "{stderr}");
    assert!(stderr.contains("maintenance"), "the receiver's answer is shown: {stderr}");

    let refusing = Receiver::start(403, "bad token").await;
    let output = alert_test_async(&refusing.url, "ops").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("ops refused the test message: 403"), "{stderr}");
    assert!(stderr.contains("check the channel's url"), "{stderr}");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = alert_test_async(&format!("http://127.0.0.1:{closed}/hook"), "ops").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("ops did not take the test message"), "{stderr}");

    let output = alert_test_async(&refusing.url, "nope").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no channel named \"nope\" (configured: ops)"), "{stderr}");
}
