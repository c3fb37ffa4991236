//! One group's message: what, where, since when, the root cause, what flinkdeck did; or, for
//! a resolved group, how each alert ended. Every channel renders this text its own way.

use crate::alert::{Message, MessageJob, Status};
use crate::store::alerting::AlertRecord;

/// A message's key: stable once written to the outbox (a resend after a crash keeps it), and
/// unique per message, so a receiver can drop a repeat.
fn new_key(channel: &str) -> String {
    format!("{channel}-{}", crate::flink::new_job_id())
}

pub fn compose(
    channel: &str,
    group_key: &str,
    status: Status,
    firing: &[&AlertRecord],
    resolved: &[&AlertRecord],
    now_ms: i64,
) -> Message {
    let all: Vec<&AlertRecord> = firing.iter().chain(resolved).copied().collect();
    let rule = common(&all, |a| a.rule.as_str()).unwrap_or("mixed").to_string();
    let cluster = common(&all, |a| a.cluster.as_str()).map(str::to_string);
    let jobs: Vec<MessageJob> = match status {
        Status::Firing => firing.iter().flat_map(|a| a.jobs.iter().cloned()).collect(),
        Status::Resolved => resolved.iter().flat_map(|a| a.jobs.iter().cloned()).collect(),
    };
    let mut lines = vec![headline(status, &rule, cluster.as_deref(), firing.len(), resolved.len())];
    for alert in firing {
        lines.push(format!("• {} (since {})", alert.summary, since(alert.started_ms, now_ms)));
        if let Some(cause) = &alert.cause {
            lines.push(format!("  cause: {cause}"));
        }
        if let Some(action) = &alert.action {
            lines.push(format!("  flinkdeck: {action}"));
        }
        if let Some(link) = &alert.link {
            lines.push(format!("  {link}"));
        }
    }
    for alert in resolved {
        let how = alert.resolution.as_deref().unwrap_or("resolved");
        let mut line = format!("✓ {}: {how}", alert.summary);
        if let Some(action) = &alert.action {
            line.push_str(&format!(" ({action})"));
        }
        lines.push(line);
    }
    Message {
        key: new_key(channel),
        status,
        rule,
        cluster,
        jobs,
        text: lines.join("\n") + &format!("\ngroup {group_key}"),
    }
}

fn headline(
    status: Status,
    rule: &str,
    cluster: Option<&str>,
    firing: usize,
    resolved: usize,
) -> String {
    let on = cluster.map(|c| format!(" on {c}")).unwrap_or_default();
    match status {
        Status::Firing if resolved > 0 => {
            format!("[FIRING] {rule}{on}: {firing} firing, {resolved} resolved")
        }
        Status::Firing => format!("[FIRING] {rule}{on}: {firing} alert{}", plural(firing)),
        Status::Resolved => format!("[RESOLVED] {rule}{on}: {resolved} alert{}", plural(resolved)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn since(started_ms: i64, now_ms: i64) -> String {
    let time = crate::format::timestamp(started_ms, crate::format::local_offset());
    format!("{time}, {}", crate::format::ago(started_ms, now_ms))
}

/// The value every alert shares, if they all share one.
fn common<'a>(
    alerts: &[&'a AlertRecord],
    field: impl Fn(&'a AlertRecord) -> &'a str,
) -> Option<&'a str> {
    let first = field(alerts.first()?);
    alerts.iter().all(|a| field(a) == first).then_some(first)
}
