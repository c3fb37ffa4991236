//! The watchdog's commands: `watch` (the headless service), `alerts`, `ack`, `silence` and
//! `auto-restart`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::SilenceAction;
use crate::config::Config;
use crate::engine::{Engine, EngineEvent, EngineOptions};
use crate::fleet::{Fleet, Health, now_ms};
use crate::format;
use crate::store::Store;
use crate::store::alerting::Silence;
use crate::store::journal::os_user;
use crate::watchdog::stats::WatchdogStats;
use crate::watchdog::{Watchdog, WatchdogView};

/// What `/healthz` and `/metrics` read: the newest fleet and view.
#[derive(Default)]
struct Seen {
    fleet: Fleet,
    view: WatchdogView,
}

/// Runs until SIGINT or SIGTERM, then gives the lease up so a standby takes over at once.
pub async fn watch(
    config: Config,
    database: std::path::PathBuf,
    listen: Option<SocketAddr>,
) -> Result<()> {
    let options = EngineOptions { database, watch: true, watchdog: true };
    let (engine, mut events) = Engine::start(config, options);
    if let Some(notice) = engine.cache_notice() {
        tracing::warn!("{notice}");
    }
    let watchdog = engine.watchdog().ok_or_else(|| eyre!("the watchdog needs the database"))?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    if let Some(addr) = listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("listening on {addr}"))?;
        tracing::info!(%addr, "serving /healthz and /metrics");
        tokio::spawn(serve(
            listener,
            seen.clone(),
            watchdog.stats.clone(),
            watchdog.holder.clone(),
        ));
    }
    tracing::info!(clusters = engine.config().clusters.len(), channels = engine.config().channels.len(), holder = %watchdog.holder, "watching");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(EngineEvent::Fleet(update)) => seen.lock().unwrap_or_else(|p| p.into_inner()).fleet = update.fleet,
                Some(EngineEvent::Watchdog(view)) => seen.lock().unwrap_or_else(|p| p.into_inner()).view = *view,
                Some(EngineEvent::Operation(op)) => {
                    tracing::info!(operation = op.id, action = op.kind.as_str(), phase = op.phase.as_str(), job = ?op.job_id, "operation");
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    stop(watchdog).await;
    Ok(())
}

async fn stop(watchdog: &Watchdog) {
    tracing::info!("stopping: giving the watchdog lease up");
    watchdog.stop().await;
}

async fn serve(
    listener: tokio::net::TcpListener,
    seen: Arc<Mutex<Seen>>,
    stats: Arc<WatchdogStats>,
    holder: String,
) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let (seen, stats, holder) = (seen.clone(), stats.clone(), holder.clone());
        tokio::spawn(async move {
            let mut request = vec![0u8; 2048];
            let n = match tokio::time::timeout(
                std::time::Duration::from_secs(5),
                stream.read(&mut request),
            )
            .await
            {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let line = String::from_utf8_lossy(&request[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, kind, body) = {
                let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                match path {
                    "/healthz" => {
                        let body = json!({
                            "status": "ok",
                            "active": stats.is_active(),
                            "holder": holder,
                            "lease_holder": seen.view.lease.as_ref().map(|l| l.holder.clone()),
                        });
                        ("200 OK", "application/json", body.to_string())
                    }
                    "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics(&seen, &stats)),
                    _ => ("404 Not Found", "text/plain", "try /healthz or /metrics\n".to_string()),
                }
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        });
    }
}

/// Prometheus' text format: fleet gauges, alert gauges and the watchdog's own counters.
fn metrics(seen: &Seen, stats: &WatchdogStats) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, rows: Vec<(String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let clusters = &seen.fleet.clusters;
    gauge(
        "flinkdeck_cluster_up",
        "1 while the cluster answers its polls.",
        clusters
            .iter()
            .map(|c| (format!("{{cluster=\"{}\"}}", c.name), (c.health == Health::Up) as u64))
            .collect(),
    );
    gauge(
        "flinkdeck_jobs",
        "Jobs per cluster and state.",
        clusters
            .iter()
            .flat_map(|c| {
                let mut by_state = std::collections::BTreeMap::<String, u64>::new();
                for job in c.jobs.iter() {
                    *by_state.entry(job.summary.state.to_string()).or_default() += 1;
                }
                by_state
                    .into_iter()
                    .map(|(state, n)| (format!("{{cluster=\"{}\",state=\"{state}\"}}", c.name), n))
            })
            .collect(),
    );
    let now = crate::fleet::now_ms();
    let coverage: Vec<_> = clusters.iter().map(|c| (&c.name, c.probe_coverage(now))).collect();
    gauge(
        "flinkdeck_checkpoint_probed_jobs",
        "Running jobs whose checkpoints the probe has seen.",
        coverage.iter().map(|(c, (n, _))| (format!("{{cluster=\"{c}\"}}"), *n as u64)).collect(),
    );
    gauge(
        "flinkdeck_checkpoint_probe_age_seconds",
        "Age of the oldest checkpoint probe of a running job (jobs / poll.probe_budget).",
        coverage
            .iter()
            .filter_map(|(c, (_, age))| {
                Some((format!("{{cluster=\"{c}\"}}"), (*age)? as u64 / 1000))
            })
            .collect(),
    );
    gauge(
        "flinkdeck_alerts_firing",
        "Alerts firing now.",
        vec![(String::new(), seen.view.firing().count() as u64)],
    );
    gauge(
        "flinkdeck_channel_pending",
        "Messages waiting for their channel.",
        seen.view
            .channels
            .iter()
            .map(|c| (format!("{{channel=\"{}\"}}", c.channel), c.pending as u64))
            .collect(),
    );
    gauge(
        "flinkdeck_watchdog_active",
        "1 while this process holds the watchdog lease.",
        vec![(String::new(), stats.is_active() as u64)],
    );
    for (name, help, value) in stats.counters() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    }
    out
}

/// `flinkdeck alerts [--json]`
pub fn alerts(store: &Store, as_json: bool) -> Result<()> {
    let now = now_ms();
    let view = WatchdogView::load(store, "", now)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(());
    }
    match &view.lease {
        Some(lease) if lease.expires_ms > now => println!("watchdog: {} (active)", lease.holder),
        _ => println!("watchdog: none active (run `flinkdeck watch`, or open the console)"),
    }
    if view.alerts.is_empty() {
        println!("no alert firing, none resolved within a day");
    }
    let offset = format::local_offset();
    for alert in &view.alerts {
        let state = match (alert.resolved_ms, view.muted.get(&alert.id), &alert.acked_by) {
            (Some(_), _, _) => "resolved".to_string(),
            (None, Some(crate::watchdog::grouping::Muted::Silenced(id)), _) => {
                format!("silenced by {id}")
            }
            (None, Some(crate::watchdog::grouping::Muted::Inhibited), _) => "inhibited".to_string(),
            (None, None, Some(by)) => format!("acked by {by}"),
            (None, None, None) => "FIRING".to_string(),
        };
        println!(
            "{:>5}  {:<14} {:<20} {}  {}",
            alert.id,
            state,
            alert.rule,
            format::timestamp(alert.started_ms, offset),
            alert.summary
        );
        for line in [&alert.cause, &alert.action, &alert.resolution].into_iter().flatten() {
            println!("       {line}");
        }
    }
    for silence in &view.silences {
        println!(
            "silence {}: {} until {} by {}{}",
            silence.id,
            silence.describe_matchers(),
            format::timestamp(silence.ends_ms, offset),
            silence.created_by,
            silence.comment.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
        );
    }
    for channel in &view.channels {
        let health = if channel.broken {
            "BROKEN"
        } else if channel.pending > 0 {
            "retrying"
        } else {
            "ok"
        };
        println!(
            "channel {}: {health}, {} sent, {} pending{}",
            channel.channel,
            channel.sent,
            channel.pending,
            channel.last_error.as_ref().map(|e| format!(", last error: {e}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub fn ack(store: &Store, id: i64) -> Result<()> {
    match store.ack_alert(id, &os_user(), now_ms())? {
        Some(alert) => {
            println!("acknowledged alert {id}: {}", alert.summary);
            Ok(())
        }
        None => bail!("no firing alert has id {id} (see `flinkdeck alerts`)"),
    }
}

pub fn silence(
    store: &Store,
    action: Option<&SilenceAction>,
    cluster: Option<&String>,
) -> Result<()> {
    let now = now_ms();
    match action {
        None => {
            let silences = store.silences(now)?;
            if silences.is_empty() {
                println!("no silence in force");
            }
            for s in silences {
                let until = format::timestamp(s.ends_ms, format::local_offset());
                println!(
                    "{:>5}  {}  until {until}  by {}",
                    s.id,
                    s.describe_matchers(),
                    s.created_by
                );
            }
        }
        Some(SilenceAction::Add { job, rule, duration, comment }) => {
            if let Some(rule) = rule
                && !crate::watchdog::rules::RULES.contains(&rule.as_str())
            {
                bail!(
                    "no rule named {rule:?} (rules: {})",
                    crate::watchdog::rules::RULES.join(", ")
                );
            }
            let length = format::parse_duration(duration).map_err(|e| eyre!(e))?;
            let wanted = Silence {
                id: 0,
                cluster: cluster.cloned(),
                job: job.clone(),
                rule: rule.clone(),
                starts_ms: now,
                ends_ms: now + length,
                created_by: os_user(),
                comment: comment.clone(),
            };
            let silence = store.add_silence(&wanted, now)?;
            println!(
                "silence {}: {} for {}",
                silence.id,
                silence.describe_matchers(),
                format::duration(length)
            );
        }
        Some(SilenceAction::Expire { id }) => {
            if !store.expire_silence(*id, now)? {
                bail!("no silence {id} is in force");
            }
            println!("silence {id} ended");
        }
    }
    Ok(())
}

/// `flinkdeck auto-restart JOB [--max N] [--window D] [--backoff D] [--off]`
pub async fn auto_restart(
    engine: &Engine,
    job: &str,
    max: Option<u32>,
    window: Option<&str>,
    backoff: Option<&str>,
    off: bool,
) -> Result<()> {
    let update = engine.poll_once().await;
    let (cluster, found) = super::resolve_job(&update.fleet, job)?;
    let (cluster, jid) = (cluster.to_string(), found.summary.jid.clone());
    let journal = engine.journal().map_err(|e| eyre!(e))?;
    let (c, j) = (cluster.clone(), jid.clone());
    let Some(spec) = journal.with(move |s| s.spec_for_job(&c, &j)).await? else {
        bail!(
            "job {jid} has no launch spec, so flinkdeck cannot restart it: adopt it first (`flinkdeck adopt {jid}`)"
        );
    };
    let mut policy = engine.config().auto_restart.policy();
    if let Some(max) = max {
        policy.max_restarts = max;
    }
    if let Some(window) = window {
        policy.window_ms = format::parse_duration(window).map_err(|e| eyre!(e))?;
    }
    if let Some(backoff) = backoff {
        policy.backoff_ms = format::parse_duration(backoff).map_err(|e| eyre!(e))?;
    }
    let chosen = (!off).then_some(policy);
    let id = spec.id;
    journal.with(move |s| s.set_auto_restart(id, chosen, now_ms())).await?;
    match chosen {
        Some(p) => println!(
            "{} ({jid} on {cluster}) restarts automatically: at most {} times in {}, backoff {}",
            spec.name,
            p.max_restarts,
            format::duration(p.window_ms),
            format::duration(p.backoff_ms)
        ),
        None => println!("{} ({jid} on {cluster}) no longer restarts automatically", spec.name),
    }
    Ok(())
}
