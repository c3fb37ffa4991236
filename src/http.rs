//! The HTTP client every REST connection uses (Flink's REST API, the SQL Gateway): the
//! configured credentials (basic or bearer auth, extra headers, CA bundle) on every request,
//! and one timeout.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::config::Auth;

/// A reqwest client sending `auth` with every request; each request gives up after `timeout`.
pub(crate) fn authenticated_client(
    auth: &Auth,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut headers = HeaderMap::new();
    if let Some(token) = auth.resolved_token() {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the bearer token is not a valid header".to_string())?;
        headers.insert(AUTHORIZATION, sensitive(value));
    } else if let Some(user) = &auth.username {
        use base64::Engine as _;
        let pair = format!("{user}:{}", auth.resolved_password().unwrap_or_default());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        let value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| "basic credentials are not a valid header".to_string())?;
        headers.insert(AUTHORIZATION, sensitive(value));
    }
    for (name, value) in &auth.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header name {name:?} is not valid"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {name} has an invalid value"))?;
        headers.insert(name, sensitive(value));
    }
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .user_agent(concat!("flinkdeck/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &auth.ca_bundle {
        let pem = std::fs::read(path).map_err(|e| format!("CA bundle {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("CA bundle {}: {e}", path.display()))?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

fn sensitive(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}

/// The deepest source of an error: reqwest's own message is only "error sending request".
pub(crate) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
