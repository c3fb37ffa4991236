//! Drawing the whole screen: a pure function of [`App`].

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::action::Action;
use super::app::{App, Focus, Overlay, Screen};
use super::keymap::Context;
use super::layout::Areas;
use super::panes::RenderContext;
use super::panes::alerts::Context as AlertsContext;
use super::theme::Role;
use crate::fleet::Health;

pub fn draw(frame: &mut Frame, app: &App) {
    render(app, frame.area(), frame.buffer_mut());
}

/// Renders `app` into `buf`; also used directly by snapshot tests and benchmarks.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let areas = Areas::of(area, app.fleet.clusters.len());
    let ctx = |focused| RenderContext {
        theme,
        fleet: &app.fleet,
        now_ms: app.now_ms,
        offset: app.offset,
        focused,
        workbench_jobs: &app.workbench.started_jobs,
    };
    header(app, areas.header, buf);
    if app.screen == Screen::Workbench {
        app.workbench.render(theme, app.now_ms, areas.body, buf);
    } else {
        fleet_body(app, &ctx, areas, buf);
    }
    footer(app, areas.footer, buf);
    match &app.overlay {
        Some(Overlay::Help(help)) => help.render(&app.keymap, theme, area, buf),
        Some(Overlay::Palette(palette)) => palette.render(theme, area, buf),
        Some(Overlay::Confirm(confirm)) => confirm.render(theme, area, buf),
        Some(Overlay::Form(form)) => form.render(theme, area, buf),
        Some(Overlay::Silence(form)) => form.render(theme, area, buf),
        None => {}
    }
}

fn fleet_body<'a>(
    app: &'a App,
    ctx: &dyn Fn(bool) -> RenderContext<'a>,
    areas: Areas,
    buf: &mut Buffer,
) {
    let theme = app.theme();
    match (&app.log_view, &app.detail, &app.alerts) {
        (Some(view), _, _) => view.render(theme, areas.body, buf),
        (None, Some(detail), _) => detail.render(&ctx(true), areas.body, buf),
        (None, None, Some(pane)) => {
            let ctx =
                AlertsContext { theme, fleet: &app.fleet, now_ms: app.now_ms, offset: app.offset };
            pane.render(&app.watchdog, &ctx, areas.body, buf)
        }
        (None, None, None) => {
            app.clusters.render(&ctx(app.focus == Focus::Clusters), areas.clusters, buf);
            app.jobs.render(&ctx(app.focus == Focus::Jobs), areas.jobs, buf);
        }
    }
}

fn header(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let fleet = &app.fleet;
    let count = |h: Health| fleet.clusters.iter().filter(|c| c.health == h).count();
    let running: usize = fleet.clusters.iter().map(|c| c.jobs_running()).sum();
    let mut spans = vec![
        Span::styled(" flinkdeck ", theme.style(Role::Title)),
        Span::styled(format!("{} clusters ", fleet.clusters.len()), theme.style(Role::Text)),
        Span::styled(format!("{} up ", count(Health::Up)), theme.style(Role::ClusterUp)),
    ];
    for (health, role) in [(Health::Down, Role::ClusterDown), (Health::Stale, Role::ClusterStale)] {
        let n = count(health);
        if n > 0 {
            spans.push(Span::styled(format!("{n} {} ", health.as_str()), theme.style(role)));
        }
    }
    spans.push(Span::styled(format!("· {} jobs ", fleet.job_count()), theme.style(Role::Text)));
    spans.push(Span::styled(format!("{running} running "), theme.style(Role::JobRunning)));
    let alerts = app.watchdog.unhandled();
    if alerts > 0 {
        let label = if alerts == 1 { "alert" } else { "alerts" };
        spans.push(Span::styled(format!("· {alerts} {label} "), theme.style(Role::Error)));
        if app.alerts.is_none()
            && let Some(key) = app.keymap.first_key(Context::Global, Action::ShowAlerts)
        {
            spans.push(Span::styled(format!("{key} "), theme.style(Role::Key)));
        }
    }
    for channel in app.watchdog.channels.iter().filter(|c| c.broken) {
        spans.push(Span::styled(
            format!("· channel {} broken ", channel.channel),
            theme.style(Role::Warning),
        ));
    }
    let (switch, to) = match app.screen {
        Screen::Workbench => (Action::ShowJobs, "jobs"),
        Screen::Fleet => (Action::OpenWorkbench, "SQL workbench"),
    };
    if app.screen == Screen::Workbench {
        spans.push(Span::styled("· SQL workbench ", theme.style(Role::Accent)));
    }
    if let Some(key) = app.keymap.first_key(Context::Global, switch) {
        spans.push(Span::styled(format!("· {key} ",), theme.style(Role::Key)));
        spans.push(Span::styled(format!("{to} "), theme.style(Role::Muted)));
    }
    if app.read_only {
        spans.push(Span::styled("· read-only ", theme.style(Role::Warning)));
    }
    Line::from(spans).render(area, buf);
}

fn footer(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    if let Some(prompt) = &app.workbench.prompt {
        prompt.render(theme, area, buf);
        return;
    }
    if app.jobs.editing_filter {
        Line::from(vec![
            Span::styled(" / ", theme.style(Role::Key)),
            Span::styled(app.jobs.filter.clone(), theme.style(Role::Text)),
            Span::styled("▏", theme.style(Role::Focus)),
            Span::styled("  enter keep · esc clear", theme.style(Role::Muted)),
        ])
        .render(area, buf);
        return;
    }
    if let Some(status) = &app.status {
        let role = if status.is_error { Role::Error } else { Role::Accent };
        Line::styled(format!(" {}", status.text), theme.style(role)).render(area, buf);
        return;
    }
    let context = app.context();
    let mut spans = Vec::new();
    for action in Action::ALL {
        let (Some(label), Some(key)) =
            (action.footer_label(), app.keymap.first_key(context, action))
        else {
            continue;
        };
        let global_hint = is_global_hint(action);
        if !app.keymap.keys_for(context, action).is_empty() || global_hint {
            spans.push(Span::styled(format!(" {key}"), theme.style(Role::Key)));
            spans.push(Span::styled(format!(" {label} "), theme.style(Role::Muted)));
        }
    }
    Line::from(spans).render(area, buf);
}

fn is_global_hint(action: Action) -> bool {
    matches!(action, Action::Help | Action::Palette | Action::Quit)
}
