//! Text formatting shared by the panes and the CLI tables.

use chrono::{DateTime, FixedOffset};

use crate::flink::model::TaskCounts;

/// "3d 4h", "2h 05m", "4m 09s", "12s"; "-" for unknown.
pub fn duration(ms: i64) -> String {
    if ms < 0 {
        return "-".into();
    }
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// "2026-11-21 10:32:05" in the given offset; "-" for unset (Flink's -1).
pub fn timestamp(ms: i64, offset: FixedOffset) -> String {
    formatted(ms, offset, "%Y-%m-%d %H:%M:%S")
}

/// "11-21 10:32" for narrow columns.
pub fn short_timestamp(ms: i64, offset: FixedOffset) -> String {
    formatted(ms, offset, "%m-%d %H:%M")
}

fn formatted(ms: i64, offset: FixedOffset, pattern: &str) -> String {
    match DateTime::from_timestamp_millis(ms).filter(|_| ms > 0) {
        Some(t) => t.with_timezone(&offset).format(pattern).to_string(),
        None => "-".into(),
    }
}

/// "how long ago": "5s ago", "3m ago".
pub fn ago(ms: i64, now_ms: i64) -> String {
    format!("{} ago", duration((now_ms - ms).max(0)))
}

/// Task counts as the Flink Web UI's badge: "running/total" then the non-zero others,
/// e.g. "3/4 1 failed".
pub fn tasks(counts: &TaskCounts) -> String {
    let mut out = format!("{}/{}", counts.running, counts.total);
    for (label, n) in counts.others() {
        out.push_str(&format!(" {n} {label}"));
    }
    out
}

/// The narrow form: "running/total", plus "!N" when N tasks failed.
pub fn tasks_compact(counts: &TaskCounts) -> String {
    if counts.failed > 0 {
        format!("{}/{} !{}", counts.running, counts.total, counts.failed)
    } else {
        format!("{}/{}", counts.running, counts.total)
    }
}

/// The local UTC offset now (the console's clock; tests pass a fixed one).
pub fn local_offset() -> FixedOffset {
    *chrono::Local::now().offset()
}

/// Bytes as "1.2 MB".
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(-1), "-");
        assert_eq!(duration(12_000), "12s");
        assert_eq!(duration(249_000), "4m 09s");
        assert_eq!(duration(7_500_000), "2h 05m");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3d 4h");
    }

    #[test]
    fn timestamps_use_the_offset() {
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(timestamp(1_763_721_125_000, utc), "2025-11-21 10:32:05");
        assert_eq!(
            short_timestamp(1_763_721_125_000, FixedOffset::east_opt(3600).unwrap()),
            "11-21 11:32"
        );
        assert_eq!(timestamp(-1, utc), "-");
    }

    #[test]
    fn task_badges_list_the_odd_states() {
        let counts = TaskCounts { total: 4, running: 3, failed: 1, ..Default::default() };
        assert_eq!(tasks(&counts), "3/4 1 failed");
        assert_eq!(tasks_compact(&counts), "3/4 !1");
        assert_eq!(bytes(1536), "1.5 KB");
    }
}

/// Parses "500ms", "10s", "5m", "4h", "1d" and sums like "1h30m" into milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid =
        || format!("{text:?} is not a duration: use e.g. 500ms, 10s, 5m, 4h, 1d or 1h30m");
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total = number.checked_mul(unit).and_then(|n| total.checked_add(n)).ok_or_else(invalid)?;
    }
    Ok(total)
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_with_units_and_sums() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("10s"), Ok(10_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration(" 2d "), Ok(172_800_000));
        for bad in ["", "10", "s", "5 minutes", "-1s", "1.5h"] {
            assert!(parse_duration(bad).unwrap_err().contains("is not a duration"), "{bad}");
        }
    }
}
