//! `flinkdeck alert test NAME`: one message to one channel, now, and what it answered.

use color_eyre::Section;
use color_eyre::eyre::{Result, bail, eyre};

use crate::alert::{Delivery, send_test};
use crate::config::Config;
use crate::fleet::now_ms;

pub async fn test(config: &Config, name: &str) -> Result<()> {
    let Some(channel) = config.channels.iter().find(|c| c.name == name) else {
        let known: Vec<&str> = config.channels.iter().map(|c| c.name.as_str()).collect();
        let choice = match known.is_empty() {
            true => "no channel is configured: add a [[channels]] entry to the config".to_string(),
            false => format!("configured: {}", known.join(", ")),
        };
        bail!("no channel named {name:?} ({choice})");
    };
    channel.resolved_secret().map_err(|e| eyre!(e))?;
    let (message, delivery) = send_test(channel, now_ms()).await;
    match delivery {
        Delivery::Sent => {
            println!(
                "sent a test message to {name} ({}, key {})",
                channel.kind.as_str(),
                message.key
            );
            Ok(())
        }
        Delivery::Retry { after, why } => {
            let wait = after.map(|a| format!("; it asks to wait {} s", a.as_secs()));
            Err(eyre!("{name} did not take the test message: {why}{}", wait.unwrap_or_default()))
                .suggestion("the channel may be down or rate limiting: try again later")
        }
        Delivery::Broken(why) => Err(eyre!("{name} refused the test message: {why}"))
            .suggestion("check the channel's url (and token) in [[channels]]"),
    }
}
