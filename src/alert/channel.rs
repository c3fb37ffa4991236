//! Where alerts go: the `[[channels]]` of the config, and their secrets, which come from the
//! config, an environment variable or a file and never reach SQLite or a log.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// One `[[channels]]` entry.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    /// The signing secret of a signed bot, inline.
    pub secret: Option<String>,
    /// … or the environment variable that holds it.
    pub secret_env: Option<String>,
    /// … or a file that holds it (its first line).
    pub secret_file: Option<PathBuf>,
}

/// What a channel speaks. Each kind has its sender; the config refuses a kind this build
/// cannot send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// JSON of the documented [`super::Message`] schema, with an `Idempotency-Key` header.
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
        }
    }
}

impl fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &super::redact_url(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("secret_env", &self.secret_env)
            .field("secret_file", &self.secret_file)
            .finish()
    }
}

impl ChannelConfig {
    /// Checks what can be checked without sending: a name, an http(s) URL, at most one
    /// source of the secret.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err(format!("a channel with url {} has an empty name", self.url));
        }
        crate::config::check_url(&self.url).map_err(|e| format!("channel {:?}: {e}", self.name))?;
        let sources =
            [self.secret.is_some(), self.secret_env.is_some(), self.secret_file.is_some()];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(format!(
                "channel {:?}: give one of secret, secret_env and secret_file",
                self.name
            ));
        }
        Ok(())
    }

    /// The secret, if the channel has one: inline, from its environment variable or from its
    /// file. A named source that is missing or empty is an error, said without the value.
    pub fn resolved_secret(&self) -> Result<Option<String>, String> {
        if let Some(secret) = &self.secret {
            return Ok(Some(secret.clone()));
        }
        if let Some(name) = &self.secret_env {
            return match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_string())),
                _ => Err(format!("channel {:?}: ${name} is not set", self.name)),
            };
        }
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("channel {:?}: reading {}: {e}", self.name, path.display()))?;
            let line = text.lines().next().unwrap_or_default().trim();
            if line.is_empty() {
                return Err(format!("channel {:?}: {} is empty", self.name, path.display()));
            }
            return Ok(Some(line.to_string()));
        }
        Ok(None)
    }
}

/// Checks every channel, and that no two share a name.
pub fn validate_channels(channels: &[ChannelConfig]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for channel in channels {
        channel.validate()?;
        if !seen.insert(channel.name.as_str()) {
            return Err(format!("channel name {:?} is used twice", channel.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(toml_text: &str) -> Result<ChannelConfig, String> {
        let channel: ChannelConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        channel.validate()?;
        Ok(channel)
    }

    #[test]
    fn a_webhook_parses_and_a_kind_this_build_cannot_send_to_is_refused() {
        let hook =
            channel("name = 'ops'\nkind = 'webhook'\nurl = 'http://127.0.0.1:9/hook'").unwrap();
        assert_eq!(hook.kind, ChannelKind::Webhook);
        let refused = channel("name = 'x'\nkind = 'pager'\nurl = 'http://h/'").unwrap_err();
        assert!(refused.contains("unknown variant `pager`"), "{refused}");
        let bad_url = channel("name = 'x'\nkind = 'webhook'\nurl = 'ftp://h/'").unwrap_err();
        assert!(bad_url.contains("has scheme \"ftp\"; use http or https"), "{bad_url}");
        let two = "name = 'x'\nkind = 'webhook'\nurl = 'http://h/'\nsecret = 'a'\nsecret_env = 'B'";
        assert!(channel(two).unwrap_err().contains("give one of"));
    }

    #[test]
    fn secrets_come_from_the_config_env_or_a_file_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cr3t-from-file\n").unwrap();
        let from_file = channel(&format!(
            "name = 'f'\nkind = 'webhook'\nurl = 'http://h/'\nsecret_file = '{}'",
            file.display()
        ))
        .unwrap();
        assert_eq!(from_file.resolved_secret().unwrap().as_deref(), Some("s3cr3t-from-file"));
        let inline =
            channel("name = 'i'\nkind = 'webhook'\nurl = 'http://h/'\nsecret = 'inline-value'")
                .unwrap();
        assert!(!format!("{inline:?}").contains("inline-value"));
        let unset = channel(
            "name = 'e'\nkind = 'webhook'\nurl = 'http://h/'\nsecret_env = 'FLINKDECK_TEST_UNSET_SECRET'",
        )
        .unwrap();
        let error = unset.resolved_secret().unwrap_err();
        assert!(error.contains("$FLINKDECK_TEST_UNSET_SECRET is not set"), "{error}");
    }

    #[test]
    fn two_channels_may_not_share_a_name() {
        let hook = channel("name = 'ops'\nkind = 'webhook'\nurl = 'http://h/'").unwrap();
        let error = validate_channels(&[hook.clone(), hook]).unwrap_err();
        assert!(error.contains("used twice"), "{error}");
    }
}
