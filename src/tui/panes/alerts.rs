//! The Alerts pane: what the watchdog sees and did. Channel health, firing alerts (and why
//! one is quiet: acknowledged, silenced, inhibited by its cluster), alerts resolved within a
//! day, and the silences in force. Drawn from the last [`WatchdogView`]; its keys ask for
//! effects (ack, silence, test-send) and never touch the database themselves.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::pane_block;
use crate::format;
use crate::store::alerting::{AlertRecord, Silence};
use crate::store::outbox::ChannelHealth;
use crate::tui::theme::{Role, Theme};
use crate::watchdog::WatchdogView;
use crate::watchdog::grouping::Muted;

/// Rows kept visible under the selected one.
const DETAIL_ROOM: usize = 6;

/// What a row of the pane is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Channel(usize),
    Alert(usize),
    Silence(usize),
}

/// The selectable rows of `view`, in the order they are drawn.
pub fn items(view: &WatchdogView) -> Vec<Item> {
    (0..view.channels.len())
        .map(Item::Channel)
        .chain((0..view.alerts.len()).map(Item::Alert))
        .chain((0..view.silences.len()).map(Item::Silence))
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct AlertsPane {
    pub selected: usize,
}

impl AlertsPane {
    /// The pane opens on the first firing alert, where the attention is needed.
    pub fn new(view: &WatchdogView) -> Self {
        let first_firing = items(view)
            .iter()
            .position(|item| matches!(item, Item::Alert(i) if view.alerts[*i].is_firing()));
        Self { selected: first_firing.unwrap_or(0) }
    }

    pub fn selected_item(&self, view: &WatchdogView) -> Option<Item> {
        let items = items(view);
        items.get(self.selected.min(items.len().saturating_sub(1))).copied()
    }

    pub fn move_by(&mut self, delta: isize, view: &WatchdogView) {
        let last = items(view).len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn render(&self, view: &WatchdogView, ctx: &Context, area: Rect, buf: &mut Buffer) {
        let theme = ctx.theme;
        let firing = view.firing().count();
        let title = Line::from(vec![
            Span::styled(" Alerts ", theme.style(Role::Title)),
            Span::styled(
                format!("{firing} firing, {} unhandled ", view.unhandled()),
                theme.style(Role::Muted),
            ),
        ]);
        let block = pane_block(theme, true).title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        let selected = self.selected_item(view);
        let mut lines = vec![watchdog_line(view, ctx), probe_line(ctx), Line::default()];
        let mut selected_line = 0;
        let mut push = |lines: &mut Vec<Line<'static>>, item: Item, line: Line<'static>| {
            if Some(item) == selected {
                selected_line = lines.len();
                lines.push(line.style(theme.style(Role::Selection)));
            } else {
                lines.push(line);
            }
        };
        // A section's heading, and what it says when it has no rows.
        let heading =
            |lines: &mut Vec<Line<'static>>, title: &'static str, empty: Option<&'static str>| {
                lines.push(Line::styled(title, theme.style(Role::Header)));
                if let Some(empty) = empty {
                    lines.push(Line::styled(empty, theme.style(Role::Muted)));
                }
            };
        let none = |rows: usize, text| (rows == 0).then_some(text);
        heading(
            &mut lines,
            "Channels",
            none(
                view.channels.len(),
                "  none configured: add [[channels]] to config.toml (alerts still show here)",
            ),
        );
        for (i, channel) in view.channels.iter().enumerate() {
            push(&mut lines, Item::Channel(i), channel_line(channel, ctx));
        }
        lines.push(Line::default());
        heading(
            &mut lines,
            "Alerts (firing, then resolved within a day)",
            none(view.alerts.len(), "  nothing fired within a day"),
        );
        for (i, alert) in view.alerts.iter().enumerate() {
            push(&mut lines, Item::Alert(i), alert_line(alert, view, ctx));
            if Some(Item::Alert(i)) == selected {
                lines.extend(alert_details(alert, theme));
            }
        }
        lines.push(Line::default());
        heading(
            &mut lines,
            "Silences in force",
            none(view.silences.len(), "  none: s on an alert silences alerts like it"),
        );
        for (i, silence) in view.silences.iter().enumerate() {
            push(&mut lines, Item::Silence(i), silence_line(silence, ctx));
        }
        // The selected row stays on screen, with room for the details under an alert.
        let scroll = (selected_line + DETAIL_ROOM).saturating_sub(inner.height as usize);
        Paragraph::new(lines).scroll((scroll as u16, 0)).render(inner, buf);
    }
}

/// What the pane reads besides the view.
pub struct Context<'a> {
    pub theme: &'a Theme,
    pub fleet: &'a crate::fleet::Fleet,
    pub now_ms: i64,
    pub offset: chrono::FixedOffset,
}

fn watchdog_line(view: &WatchdogView, ctx: &Context) -> Line<'static> {
    let theme = ctx.theme;
    let (text, role) = match &view.lease {
        _ if view.active => ("watchdog: active in this console".to_string(), Role::Ok),
        Some(lease) if lease.expires_ms > ctx.now_ms => {
            (format!("watchdog: standing by, {} is active", lease.holder), Role::Text)
        }
        _ => ("watchdog: none active yet (taking the lease…)".to_string(), Role::Warning),
    };
    Line::styled(text, theme.style(role))
}

/// How old the checkpoint rules' data is per cluster: the probe visits one job at a time
/// within the cluster's request budget.
fn probe_line(ctx: &Context) -> Line<'static> {
    let parts: Vec<String> = ctx
        .fleet
        .clusters
        .iter()
        .filter_map(|c| match c.probe_coverage(ctx.now_ms) {
            (0, _) => None,
            (n, age) => Some(format!(
                "{} {n} jobs, oldest {}",
                c.name,
                format::duration(age.unwrap_or_default())
            )),
        })
        .collect();
    let text = match parts.is_empty() {
        true => "checkpoint probes: none yet".to_string(),
        false => format!("checkpoint probes: {}", parts.join(" · ")),
    };
    Line::styled(text, ctx.theme.style(Role::Muted))
}

fn channel_line(channel: &ChannelHealth, ctx: &Context) -> Line<'static> {
    let theme = ctx.theme;
    let (health, role) = if channel.broken {
        ("BROKEN", Role::Error)
    } else if channel.pending > 0 {
        ("retrying", Role::Warning)
    } else {
        ("ok", Role::Ok)
    };
    let mut spans = vec![
        Span::raw(format!("  {:<16} ", channel.channel)),
        Span::styled(format!("{health:<9}"), theme.style(role)),
        Span::styled(
            format!("{} sent, {} pending", channel.sent, channel.pending),
            theme.style(Role::Text),
        ),
    ];
    if let Some(at) = channel.last_sent_ms {
        spans.push(Span::styled(
            format!(", last {}", format::ago(at, ctx.now_ms)),
            theme.style(Role::Muted),
        ));
    }
    if let Some(error) = &channel.last_error {
        spans.push(Span::styled(format!(" · {error}"), theme.style(Role::Error)));
    }
    Line::from(spans)
}

/// FIRING, ACKED, SILENCED, INHIBITED or RESOLVED, and its colour.
fn alert_state(alert: &AlertRecord, view: &WatchdogView) -> (&'static str, Role) {
    if !alert.is_firing() {
        return ("RESOLVED", Role::Ok);
    }
    match (view.muted.get(&alert.id), &alert.acked_by) {
        (Some(Muted::Silenced(_)), _) => ("SILENCED", Role::Muted),
        (Some(Muted::Inhibited), _) => ("INHIBITED", Role::Muted),
        (None, Some(_)) => ("ACKED", Role::Warning),
        (None, None) => ("FIRING", Role::Error),
    }
}

fn alert_line(alert: &AlertRecord, view: &WatchdogView, ctx: &Context) -> Line<'static> {
    let theme = ctx.theme;
    let (state, role) = alert_state(alert, view);
    let since = match alert.resolved_ms {
        Some(resolved) => format::ago(resolved, ctx.now_ms),
        None => format!("for {}", format::duration(ctx.now_ms - alert.started_ms)),
    };
    let mut spans = vec![
        Span::styled(format!("  {:>5} ", alert.id), theme.style(Role::Muted)),
        Span::styled(format!("{state:<10}"), theme.style(role)),
        Span::styled(format!("{:<20}", alert.rule), theme.style(Role::Accent)),
        Span::styled(format!("{since:<12} "), theme.style(Role::Muted)),
        Span::styled(alert.summary.clone(), theme.style(Role::Text)),
    ];
    if let Some(action) = &alert.action {
        spans.push(Span::styled(format!(" · {action}"), theme.style(Role::Warning)));
    }
    Line::from(spans)
}

/// The selected alert's cause, resolution, acknowledgement and link, under its row.
fn alert_details(alert: &AlertRecord, theme: &Theme) -> Vec<Line<'static>> {
    let detail = |label: &str, value: String, role: Role| {
        Line::from(vec![
            Span::styled(format!("{:>19}", format!("{label}: ")), theme.style(Role::Muted)),
            Span::styled(value, theme.style(role)),
        ])
    };
    let mut lines = vec![detail("cluster", alert.cluster.clone(), Role::Text)];
    if let Some(cause) = &alert.cause {
        lines.push(detail("cause", cause.clone(), Role::Error));
    }
    if let Some(resolution) = &alert.resolution {
        lines.push(detail("resolved", resolution.clone(), Role::Ok));
    }
    if let Some(by) = &alert.acked_by {
        lines.push(detail("acknowledged", format!("by {by}"), Role::Text));
    }
    if alert.jobs.len() > 1 {
        let names: Vec<&str> = alert.jobs.iter().map(|j| j.name.as_str()).take(6).collect();
        let more = alert.jobs.len().saturating_sub(names.len());
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        lines.push(detail("jobs", format!("{}{tail}", names.join(", ")), Role::Text));
    }
    if let Some(link) = &alert.link {
        lines.push(detail("Flink UI", link.clone(), Role::Accent));
    }
    lines
}

fn silence_line(silence: &Silence, ctx: &Context) -> Line<'static> {
    let theme = ctx.theme;
    let mut spans = vec![
        Span::styled(format!("  {:>5} ", silence.id), theme.style(Role::Muted)),
        Span::styled(silence.describe_matchers(), theme.style(Role::Text)),
        Span::styled(
            format!(
                "  until {} (in {}) by {}",
                format::short_timestamp(silence.ends_ms, ctx.offset),
                format::duration(silence.ends_ms - ctx.now_ms),
                silence.created_by
            ),
            theme.style(Role::Muted),
        ),
    ];
    if let Some(comment) = &silence.comment {
        spans.push(Span::styled(format!(" · {comment}"), theme.style(Role::Text)));
    }
    Line::from(spans)
}
