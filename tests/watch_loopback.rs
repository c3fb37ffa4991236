//! `flinkdeck watch` through the real binary, with no Flink: a cluster nobody answers on
//! fires `cluster_unreachable` after 10 s. A silence holds it back and, ended, lets it out;
//! a watcher killed after it claimed a message but before the receiver answered leaves it to
//! the next watcher, which sends it again with the same key (at least once, never lost).

mod common;

use std::time::{Duration, Instant};

use common::watch::{Hook, eventually, run, start_watcher};

/// A cluster flag no Flink answers: nothing listens on port 9 of loopback.
const GONE: &str = "gone=http://127.0.0.1:9";

fn config(home: &std::path::Path, url: &str) {
    let text = format!(
        "[[channels]]\nname = 'ops'\nkind = 'webhook'\nurl = '{url}'\n\n\
         [alerts]\ngroup_wait = '1s'\ngroup_interval = '2s'\n"
    );
    std::fs::write(home.join("config.toml"), text).unwrap();
}

async fn firing_alerts(home: &std::path::Path) -> Option<usize> {
    let view: serde_json::Value =
        serde_json::from_str(&run(home, GONE, &["alerts", "--json"])).ok()?;
    let alerts = view["alerts"].as_array()?;
    Some(alerts.iter().filter(|a| a["resolved_ms"].is_null()).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_holds_an_alert_back_until_it_is_ended() {
    let home = tempfile::tempdir().unwrap();
    let (hook, url) = Hook::start().await;
    config(home.path(), &url);
    let added = run(home.path(), GONE, &["silence", "add", "--cluster", "gone", "--for", "1h"]);
    assert!(added.starts_with("silence 1: cluster=gone"), "{added}");
    let _watcher = start_watcher(home.path(), GONE);
    eventually("the alert fires", Duration::from_secs(30), async || {
        (firing_alerts(home.path()).await? == 1).then_some(())
    })
    .await;
    // Fired, but silenced: past group_wait and a plan round, nothing reached the webhook.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(hook.messages().is_empty(), "silenced: {:?}", hook.messages());
    assert!(run(home.path(), GONE, &["alerts"]).contains("silenced by 1"));
    assert_eq!(run(home.path(), GONE, &["silence", "expire", "1"]).trim(), "silence 1 ended");
    let (message, key) =
        eventually("the alert after the silence", Duration::from_secs(15), async || {
            hook.messages().into_iter().next()
        })
        .await;
    assert_eq!(message["rule"], "cluster_unreachable");
    assert_eq!(message["status"], "firing");
    assert_eq!(key, message["key"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_claimed_by_a_watcher_that_died_is_sent_again_with_its_key() {
    let home = tempfile::tempdir().unwrap();
    // The first request never gets an answer: the watcher is killed while it waits.
    let (hook, url) = Hook::start_hanging(1).await;
    config(home.path(), &url);
    let mut first = start_watcher(home.path(), GONE);
    let (sent, key) = eventually("the first attempt", Duration::from_secs(40), async || {
        hook.messages().into_iter().next()
    })
    .await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let killed = Instant::now();
    let _second = start_watcher(home.path(), GONE);
    // The second takes the lease (10 s) and, once the dead one's claim runs out (30 s),
    // sends the same message with the same key; the receiver can drop the repeat.
    let again = eventually("the message sent again", Duration::from_secs(60), async || {
        let messages = hook.messages();
        (messages.len() >= 2).then(|| messages[1].clone())
    })
    .await;
    assert!(killed.elapsed() >= Duration::from_secs(15), "not before the claim ran out");
    assert_eq!(again.1, key, "the same Idempotency-Key");
    assert_eq!(again.0["key"], sent["key"]);
    assert_eq!(again.0["text"], sent["text"]);
    let delivered = eventually("the delivery recorded", Duration::from_secs(10), async || {
        let out = run(home.path(), GONE, &["alerts"]);
        out.contains("channel ops: ok, 1 sent, 0 pending").then_some(out)
    })
    .await;
    assert!(delivered.contains("cluster gone unreachable"), "{delivered}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hook.messages().len(), 2, "sent once more, not again and again");
}
