//! Callback POSTs (README "Callbacks"): one JSON line per request, `Content-Type:
//! application/json`, HTTP/1.1 (RFC 9110 §9.3.3, RFC 9112) through `ureq`, bounded by connect and
//! total timeouts, retried with backoff on network errors, 5xx, 408 and 429.
//!
//! Any 2xx is delivery. Redirects are not followed (a POST body is not re-sent elsewhere
//! silently). URLs in messages lose their query and user info, which often carry tokens.

use std::time::Duration;

use anyhow::{Result, bail};

use super::retry::{Attempt, GaveUp, RetryPolicy, retry};

/// Limits of one POST attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// The whole attempt: connect, send, and read the reply.
    pub total: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s in all.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(30),
        }
    }
}

/// Longest part of a refusing server's reply quoted in an error.
const REPLY_QUOTE_MAX: usize = 200;

/// POSTs callbacks to one URL.
pub struct Poster {
    url: String,
    agent: ureq::Agent,
    timeouts: Timeouts,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Poster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poster")
            .field("url", &redact_url(&self.url))
            .field("retry", &self.retry)
            .finish()
    }
}

/// Why one POST attempt failed.
#[derive(Debug)]
pub(crate) struct PostError {
    pub(crate) message: String,
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Poster {
    /// A poster for `url` (`http://` or `https://`).
    pub fn new(url: &str, timeouts: Timeouts, retry: RetryPolicy) -> Result<Poster> {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            bail!(
                "callback URL {} must start with http:// or https://",
                redact_url(url)
            );
        }
        super::init_tls();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(timeouts.connect))
            .timeout_global(Some(timeouts.total))
            .user_agent(concat!("kls-rec/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Poster {
            url: url.to_string(),
            agent: config.into(),
            timeouts,
            retry,
        })
    }

    /// The URL without query or user info, for messages.
    pub(crate) fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// POSTs one callback, retrying per the policy. The error says what failed, how often it
    /// was tried and for how long.
    #[cfg(test)]
    pub(crate) fn post(&self, json_line: &str) -> Result<()> {
        self.try_post(json_line)
            .map_err(|e| anyhow::anyhow!("posting the callback to {}: {e}", redact_url(&self.url)))
    }

    /// POSTs one callback, retrying per the policy, and returns the structured failure (to tell
    /// transient from permanent).
    pub(crate) fn try_post(&self, json_line: &str) -> Result<(), GaveUp<PostError>> {
        retry(&self.retry, |_| self.attempt(json_line))
    }

    fn attempt(&self, body: &str) -> Result<(), Attempt<PostError>> {
        let reply = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body);
        let mut reply = match reply {
            Ok(r) => r,
            Err(e) => {
                let message = describe_error(&e, &self.timeouts);
                let error = PostError { message };
                // A URL ureq cannot use will never work; everything else may be passing.
                return Err(match e {
                    ureq::Error::BadUri(_) | ureq::Error::RedirectFailed => {
                        Attempt::Permanent(error)
                    }
                    _ => Attempt::Transient(error),
                });
            }
        };
        let status = reply.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let quote = reply
            .body_mut()
            .with_config()
            .limit(4096)
            .read_to_string()
            .map(|s| quote_reply(&s))
            .unwrap_or_default();
        let error = PostError {
            message: format!("HTTP {status}{quote}"),
        };
        Err(if status >= 500 || status == 408 || status == 429 {
            Attempt::Transient(error)
        } else {
            Attempt::Permanent(error)
        })
    }
}

/// ureq's error in words an operator can act on.
fn describe_error(e: &ureq::Error, limits: &Timeouts) -> String {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
            std::io::ErrorKind::TimedOut => "timed out".to_string(),
            _ => io.to_string(),
        },
        ureq::Error::Timeout(ureq::Timeout::Connect) => {
            format!("connecting timed out after {:?}", limits.connect)
        }
        ureq::Error::Timeout(_) => format!("timed out after {:?}", limits.total),
        ureq::Error::HostNotFound => "host not found".to_string(),
        other => other.to_string(),
    }
}

/// `: "first line of the reply…"`, or nothing for an empty reply.
fn quote_reply(body: &str) -> String {
    let line: String = body
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(REPLY_QUOTE_MAX)
        .collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line:?}")
    }
}

/// `scheme://host[:port]/path` of a URL: drops `user:password@`, `?query` and `#fragment`.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match scheme {
        Some(s) => format!("{s}://{host}{path}"),
        None => format!("{host}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_secrets_in_messages() {
        assert_eq!(
            redact_url("https://user:pw@hooks.example.com:8443/cb/rec?token=s3cret#x"),
            "https://hooks.example.com:8443/cb/rec"
        );
        assert_eq!(redact_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(redact_url("nonsense"), "nonsense");
    }

    #[test]
    fn only_http_urls_are_accepted() {
        let e = Poster::new("ftp://x/?token=1", Timeouts::default(), RetryPolicy::once())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "callback URL ftp://x/ must start with http:// or https://"
        );
    }

    #[test]
    fn refused_connection_is_reported_with_attempts() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/cb?token=secret");
        let p = Poster::new(&url, Timeouts::default(), RetryPolicy::quick(3)).unwrap();
        let e = p.post("{}").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "posting the callback to http://127.0.0.1:{port}/cb: connection refused after 3 attempts over "
            )),
            "{e}"
        );
        assert!(!e.contains("secret"));
    }

    #[test]
    fn reply_quotes_are_short_and_single_line() {
        assert_eq!(quote_reply(""), "");
        assert_eq!(quote_reply("bad\nbody"), ": \"bad body\"");
        assert_eq!(quote_reply(&"x".repeat(1000)).len(), REPLY_QUOTE_MAX + 4);
    }
}
