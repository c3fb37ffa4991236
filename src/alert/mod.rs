//! Alerts (UI-free): the channels they go to and the messages they carry. Shared by the
//! console, the CLI (`flinkdeck alert test`) and the headless service.

pub mod channel;
pub mod redact;
pub mod render;
pub mod sign;
pub mod webhook;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use channel::{ChannelConfig, ChannelKind, validate_channels};
pub use redact::{redact, redact_url};
pub use render::render;

/// Whether a message says a problem started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
}

/// A job a message is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageJob {
    pub id: String,
    pub name: String,
    pub state: String,
}

/// One message to one channel: the generic webhook's JSON body, and what every other kind
/// renders. `key` is stable for the same message, so a receiver can drop a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub key: String,
    pub status: Status,
    pub rule: String,
    pub cluster: Option<String>,
    pub jobs: Vec<MessageJob>,
    pub text: String,
}

impl Message {
    /// What `flinkdeck alert test` sends: a resolved message (nothing is wrong), keyed by the
    /// channel and the time, so each test is a new message.
    pub fn test(channel: &str, now_ms: i64) -> Self {
        Self {
            key: format!("test-{channel}-{now_ms}"),
            status: Status::Resolved,
            rule: "test".into(),
            cluster: None,
            jobs: Vec::new(),
            text: format!(
                "flinkdeck test message to channel {channel}: if you read this, alerts reach you"
            ),
        }
    }
}

/// How long a test send may take: a channel that takes longer is as good as down.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends [`Message::test`] to `channel` now (`flinkdeck alert test`, the console's `t`): the
/// message, and what the channel did with it.
pub async fn send_test(channel: &ChannelConfig, now_ms: i64) -> (Message, Delivery) {
    let message = Message::test(&channel.name, now_ms);
    let delivery = match reqwest::Client::builder().timeout(TEST_TIMEOUT).build() {
        Ok(http) => send(&http, channel, &message).await,
        Err(e) => Delivery::Retry { after: None, why: e.to_string() },
    };
    (message, delivery)
}

/// What a channel did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Not now: rate limited (wait `after` when the channel said how long) or a failure that
    /// may pass (a 5xx, a timeout, a refused connection).
    Retry {
        after: Option<Duration>,
        why: String,
    },
    /// The channel refuses the message as it is configured (a wrong URL, token or signature):
    /// trying again will not help.
    Broken(String),
}

/// Sends `message` through the channel's kind (this build has the generic webhook).
pub async fn send(http: &reqwest::Client, channel: &ChannelConfig, message: &Message) -> Delivery {
    webhook::send(http, channel, message).await
}

/// What a platform allows: the watchdog's sender paces each channel to it.
pub struct Limits {
    pub min_interval: Duration,
    pub per_minute: Option<u32>,
}

impl ChannelKind {
    /// A generic webhook has no documented limit: a tenth of a second between two sends
    /// keeps a burst from hammering the receiver.
    pub fn limits(self) -> Limits {
        Limits { min_interval: Duration::from_millis(100), per_minute: None }
    }
}
