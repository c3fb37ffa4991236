//! The console's side of the watchdog: the Alerts pane's keys, the silence form, and the
//! requests they make (carried out by [`run`] off the event loop).

use crossterm::event::KeyEvent;
use tokio::sync::mpsc;

use super::action::Action;
use super::app::{App, Effect, Overlay};
use super::jobops::OpUpdate;
use super::panes::alerts::{AlertsPane, Item};
use super::panes::silence_form::{SilenceForm, SilenceOutcome};
use crate::alert::Delivery;
use crate::engine::Engine;
use crate::fleet::now_ms;
use crate::store::alerting::Silence;
use crate::store::journal::os_user;

/// What the Alerts pane asks the outside world for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertRequest {
    Ack { id: i64 },
    Silence(Box<Silence>),
    ExpireSilence { id: i64 },
    TestChannel(String),
    RetryChannel(String),
}

impl App {
    pub(super) fn open_alerts(&mut self) {
        self.alerts = Some(AlertsPane::new(&self.watchdog));
    }

    /// The Alerts pane's actions; false when the pane is not open or the action is not its.
    pub(super) fn alerts_action(&mut self, action: Action) -> bool {
        if self.alerts.is_none() || self.log_view.is_some() || self.detail.is_some() {
            return false;
        }
        let pane = self.alerts.as_mut().expect("checked");
        let page = self.viewport.height.saturating_sub(6) as isize;
        match action {
            Action::Up => pane.move_by(-1, &self.watchdog),
            Action::Down => pane.move_by(1, &self.watchdog),
            Action::PageUp => pane.move_by(-page, &self.watchdog),
            Action::PageDown => pane.move_by(page, &self.watchdog),
            Action::Top => pane.move_by(isize::MIN / 2, &self.watchdog),
            Action::Bottom => pane.move_by(isize::MAX / 2, &self.watchdog),
            Action::Back => self.alerts = None,
            Action::Open => self.jump_to_alert_job(),
            Action::AckAlert => self.ack_selected(),
            Action::SilenceAlerts => self.silence_selected(),
            Action::ExpireSilence => match self.selected_alert_item() {
                Some(Item::Silence(i)) => {
                    let id = self.watchdog.silences[i].id;
                    self.request(
                        AlertRequest::ExpireSilence { id },
                        format!("ending silence {id}…"),
                    );
                }
                _ => self.say_error("select a silence to end it".into()),
            },
            Action::TestChannel | Action::RetryChannel => match self.selected_alert_item() {
                Some(Item::Channel(i)) => {
                    let name = self.watchdog.channels[i].channel.clone();
                    let (request, text) = if action == Action::TestChannel {
                        (
                            AlertRequest::TestChannel(name.clone()),
                            format!("test message to {name}…"),
                        )
                    } else {
                        (AlertRequest::RetryChannel(name.clone()), format!("retrying {name} now…"))
                    };
                    self.request(request, text);
                }
                _ => self.say_error("select a channel first".into()),
            },
            _ => return false,
        }
        true
    }

    fn selected_alert_item(&self) -> Option<Item> {
        self.alerts.as_ref()?.selected_item(&self.watchdog)
    }

    fn request(&mut self, request: AlertRequest, text: String) {
        self.effects.push(Effect::Alert(request));
        self.say(text);
    }

    fn ack_selected(&mut self) {
        match self.selected_alert_item() {
            Some(Item::Alert(i)) if self.watchdog.alerts[i].is_firing() => {
                let alert = &self.watchdog.alerts[i];
                let (id, text) = (alert.id, format!("acknowledging {}…", alert.summary));
                self.request(AlertRequest::Ack { id }, text);
            }
            Some(Item::Alert(_)) => self.say_error("that alert is resolved already".into()),
            _ => self.say_error("select a firing alert to acknowledge it".into()),
        }
    }

    fn silence_selected(&mut self) {
        if let Some(Item::Alert(i)) = self.selected_alert_item() {
            let form = SilenceForm::like(&self.watchdog.alerts[i]);
            self.overlay = Some(Overlay::Silence(Box::new(form)));
        } else {
            self.say_error("select an alert: the silence is made like it".into());
        }
    }

    /// Closes the pane on the alert's job in the job list.
    fn jump_to_alert_job(&mut self) {
        let Some(Item::Alert(i)) = self.selected_alert_item() else { return };
        let Some(jid) = self.watchdog.alerts[i].job_id.clone() else {
            self.say_error("this alert is about a cluster, not one job".into());
            return;
        };
        self.alerts = None;
        if !self.select_job(&jid) {
            self.say_error(format!("job {jid} is not in the list (filters, or gone)"));
        }
    }

    pub(super) fn silence_key(&mut self, key: KeyEvent, mut form: Box<SilenceForm>) {
        match form.key(key, self.now_ms) {
            SilenceOutcome::Editing => self.overlay = Some(Overlay::Silence(form)),
            SilenceOutcome::Cancelled => {}
            SilenceOutcome::Done(silence) => {
                let text = format!("silencing {}…", silence.describe_matchers());
                self.request(AlertRequest::Silence(silence), text);
            }
        }
    }
}

/// Carries out `request` in a task and reports like a job operation; the watchdog then
/// looks again at once, so the pane shows the change within a moment.
pub fn run(request: AlertRequest, engine: &Engine, updates: &mpsc::UnboundedSender<OpUpdate>) {
    let Ok(store) = engine.journal().cloned() else {
        let _ = updates.send(OpUpdate::Done {
            label: "alerts".into(),
            result: Err("no database: the watchdog's state is not available".into()),
        });
        return;
    };
    let watchdog = engine.watchdog().map(|w| w.handle());
    let channel = match &request {
        AlertRequest::TestChannel(name) => {
            engine.config().channels.iter().find(|c| &c.name == name).cloned()
        }
        _ => None,
    };
    let updates = updates.clone();
    tokio::spawn(async move {
        let now = now_ms();
        let (label, result) = match request {
            AlertRequest::Ack { id } => (
                format!("ack {id}"),
                store
                    .with(move |s| s.ack_alert(id, &os_user(), now))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|alert| match alert {
                        Some(alert) => Ok(format!("acknowledged: {}", alert.summary)),
                        None => Err(format!("alert {id} is not firing any more")),
                    }),
            ),
            AlertRequest::Silence(mut silence) => {
                silence.created_by = os_user();
                let added = store.with(move |s| s.add_silence(&silence, now)).await;
                let result = added.map(|s| {
                    let until = crate::format::duration(s.ends_ms - s.starts_ms);
                    format!("silence {}: {} for {until}", s.id, s.describe_matchers())
                });
                ("silence".to_string(), result.map_err(|e| e.to_string()))
            }
            AlertRequest::ExpireSilence { id } => {
                let ended = store.with(move |s| s.expire_silence(id, now)).await;
                let result = match ended {
                    Ok(true) => Ok("ended".to_string()),
                    Ok(false) => Err("it is not in force".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (format!("silence {id}"), result)
            }
            AlertRequest::RetryChannel(name) => {
                let channel = name.clone();
                let retried = store.with(move |s| s.retry_channel_now(&channel, now)).await;
                let result = retried.map(|_| "pending messages go out now".to_string());
                (format!("channel {name}"), result.map_err(|e| e.to_string()))
            }
            AlertRequest::TestChannel(name) => {
                (format!("test of {name}"), test_send(&name, channel.as_ref(), now).await)
            }
        };
        if let Some(watchdog) = watchdog {
            watchdog.refresh();
        }
        let _ = updates.send(OpUpdate::Done { label, result });
    });
}

async fn test_send(
    name: &str,
    channel: Option<&crate::alert::ChannelConfig>,
    now: i64,
) -> Result<String, String> {
    let channel = channel.ok_or_else(|| format!("channel {name} is not in the config any more"))?;
    let (message, delivery) = crate::alert::send_test(channel, now).await;
    match delivery {
        Delivery::Sent => Ok(format!("sent (key {})", message.key)),
        Delivery::Retry { why, .. } => Err(format!("not taken, try again later: {why}")),
        Delivery::Broken(why) => Err(format!("refused: {why} (check its url and token)")),
    }
}
