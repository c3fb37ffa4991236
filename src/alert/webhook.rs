//! The generic webhook: [`Message`] as JSON, with the message's key as `Idempotency-Key`.

use std::time::Duration;

use super::{ChannelConfig, Delivery, Message};
use crate::http::innermost;

/// The header that carries the message's key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Posts `message` to the channel's URL and says what came of it.
pub async fn send(http: &reqwest::Client, channel: &ChannelConfig, message: &Message) -> Delivery {
    let response =
        http.post(&channel.url).header(IDEMPOTENCY_HEADER, &message.key).json(message).send().await;
    match response {
        Ok(response) => {
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.text().await.unwrap_or_default();
            classify(status, retry_after, &body)
        }
        Err(error) => {
            Delivery::Retry { after: None, why: super::redact(&innermost(&error), &channel.url) }
        }
    }
}

/// A 2xx is sent; 429 and 5xx are worth another try; any other answer means the channel
/// will not take it.
fn classify(status: reqwest::StatusCode, retry_after: Option<Duration>, body: &str) -> Delivery {
    let said = body.trim().chars().take(200).collect::<String>();
    let what = if said.is_empty() { status.to_string() } else { format!("{status}: {said}") };
    if status.is_success() {
        Delivery::Sent
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Delivery::Retry { after: retry_after, why: format!("rate limited ({what})") }
    } else if status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT {
        Delivery::Retry { after: retry_after, why: what }
    } else {
        Delivery::Broken(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn answers_are_sent_retried_or_broken() {
        assert_eq!(classify(StatusCode::NO_CONTENT, None, ""), Delivery::Sent);
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, wait, "slow down"),
            Delivery::Retry {
                after: wait,
                why: "rate limited (429 Too Many Requests: slow down)".into()
            }
        );
        assert!(matches!(classify(StatusCode::BAD_GATEWAY, None, ""), Delivery::Retry { .. }));
        assert_eq!(
            classify(StatusCode::NOT_FOUND, None, "no such hook"),
            Delivery::Broken("404 Not Found: no such hook".into())
        );
    }
}
