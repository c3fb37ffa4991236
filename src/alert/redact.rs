//! Bot URLs carry their token (WeCom `?key=`, DingTalk `?access_token=`, the last path
//! segments of Lark and Slack hooks): every error, Debug and log string shows them masked.

const MASK: &str = "<redacted>";
/// Query parameters whose value is a credential.
const SECRET_PARAMS: [&str; 4] = ["key", "access_token", "token", "sign"];
/// Path segments after which the rest of a path is the token.
const TOKEN_PATHS: [&str; 2] = ["/hook/", "/services/"];

/// `url` with its token masked; a string that is no URL comes back as it is.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    let path = parsed.path().to_string();
    if let Some((start, marker)) =
        TOKEN_PATHS.iter().find_map(|m| path.find(m).map(|start| (start, *m)))
    {
        parsed.set_path(&format!("{}{MASK}", &path[..start + marker.len()]));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let secret = SECRET_PARAMS.contains(&name.as_ref());
                (name.into_owned(), if secret { MASK.to_string() } else { value.into_owned() })
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// `text` with every occurrence of the channel's `url` masked (errors from the HTTP client
/// quote the URL they failed on).
pub fn redact(text: &str, url: &str) -> String {
    if url.is_empty() { text.to_string() } else { text.replace(url, &redact_url(url)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_queries_and_hook_paths_are_masked() {
        let wecom = "http://127.0.0.1:9/cgi-bin/webhook/send?key=abc-123";
        assert_eq!(redact_url(wecom), "http://127.0.0.1:9/cgi-bin/webhook/send?key=%3Credacted%3E");
        let dingtalk = "http://127.0.0.1:9/robot/send?access_token=t0k&x=1";
        assert!(!redact_url(dingtalk).contains("t0k"));
        assert!(redact_url(dingtalk).contains("x=1"));
        let lark = "http://127.0.0.1:9/open-apis/bot/v2/hook/5e3f-77";
        assert_eq!(redact_url(lark), "http://127.0.0.1:9/open-apis/bot/v2/hook/%3Credacted%3E");
        let slack = "http://127.0.0.1:9/services/T0/B0/XyZ";
        let error = format!("error sending request for url ({slack}): refused");
        assert!(!redact(&error, slack).contains("XyZ"), "{}", redact(&error, slack));
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
