//! The watchdog's commands that need no cluster: `alerts`, `ack`, `silence`, through the real
//! binary on a fresh data dir.

use std::path::Path;
use std::process::Output;

fn flinkdeck(home: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flinkdeck"))
        .env("FLINKDECK_CONFIG_DIR", home.join("config"))
        .env("FLINKDECK_DATA_DIR", home.join("data"))
        .env("RUST_BACKTRACE", "0")
        .args(args)
        .output()
        .unwrap()
}

fn ok(home: &Path, args: &[&str]) -> String {
    let output = flinkdeck(home, args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn refused(home: &Path, args: &[&str]) -> String {
    let output = flinkdeck(home, args);
    assert!(!output.status.success(), "{args:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn silences_are_added_listed_and_ended_and_bad_input_is_refused_with_a_reason() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    assert!(ok(home, &["alerts"]).contains("no alert firing"));
    let added =
        ok(home, &["silence", "add", "--cluster", "prod", "--job", "orders-*", "--for", "2h"]);
    assert!(added.starts_with("silence 1: cluster=prod job=orders-* for 2h 00m"), "{added}");
    assert!(ok(home, &["silence"]).contains("cluster=prod job=orders-*"));
    let view: serde_json::Value = serde_json::from_str(&ok(home, &["alerts", "--json"])).unwrap();
    assert_eq!(view["silences"][0]["job"], "orders-*");
    assert_eq!(view["active"], false);
    assert!(
        refused(home, &["silence", "add", "--rule", "nope"]).contains("no rule named \"nope\"")
    );
    assert!(refused(home, &["silence", "add", "--for", "soon"]).contains("is not a duration"));
    assert!(refused(home, &["ack", "42"]).contains("no firing alert has id 42"));
    assert_eq!(ok(home, &["silence", "expire", "1"]).trim(), "silence 1 ended");
    assert!(refused(home, &["silence", "expire", "1"]).contains("no silence 1 is in force"));
    assert!(ok(home, &["silence"]).contains("no silence in force"));
}
