//! The signatures of the signed bots: both are HMAC-SHA256, keyed and fed differently.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Lark/Feishu: `base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = empty))`,
/// with `timestamp` in seconds; it goes into the JSON body beside `timestamp`.
pub fn lark(timestamp_s: i64, secret: &str) -> String {
    hmac_sha256_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

/// DingTalk: `urlencode(base64(HMAC-SHA256(key = secret, message = timestamp + "\n" +
/// secret)))`, with `timestamp` in milliseconds; it goes into the query string as is.
pub fn dingtalk(timestamp_ms: i64, secret: &str) -> String {
    let signature =
        hmac_sha256_base64(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes());
    url::form_urlencoded::byte_serialize(signature.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    // Expected values from Python's hmac, hashlib, base64 and urllib.parse.quote_plus.
    #[test]
    fn lark_signs_the_timestamp_and_secret_as_the_key() {
        assert_eq!(
            super::lark(1_700_000_000, "lark-secret"),
            "3K5KZdokND8ZKOA4MeLzCyzrEdEQGLkyTnklgWvOFGY="
        );
    }

    #[test]
    fn dingtalk_signs_with_the_secret_and_url_encodes() {
        assert_eq!(
            super::dingtalk(1_700_000_000_000, "SECdingtalk"),
            "fu5jSCt0ww6IRNRAT%2F18bSeoHhGKquVSOKsEvSa%2F2P8%3D"
        );
    }
}
