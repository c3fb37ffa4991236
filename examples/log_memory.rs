//! Memory of the log viewer holding a ~100 MB, 1-million-line log: resident memory before
//! and after opening it, against the log's size. Run:
//! `cargo run --release --example log_memory`

use flinkdeck::logs::{DEFAULT_LINE_CAP, parse_records};
#[path = "../tests/common/sim.rs"]
mod sim;

use flinkdeck::tui::panes::logview::LogView;
use sim::synthetic_log;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let before = rss_kb();
    let log = synthetic_log(1_000_000, 0);
    let size_kb = log.len() as u64 / 1024;
    let records = parse_records(&log, 0);
    // The downloaded bytes are not kept once parsed.
    drop(log);
    let view =
        LogView::new("t".into(), "c".into(), "j".into(), records, None, DEFAULT_LINE_CAP, 48);
    let after = rss_kb();
    let used = after - before;
    println!(
        "log {} MB, {} lines shown; viewer holds {} MB ({:.2}x the log)",
        size_kb / 1024,
        view.visible_len(),
        used / 1024,
        used as f64 / size_kb as f64
    );
}
