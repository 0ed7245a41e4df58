//! Bounded HTTP for the registry: every request has a connect limit, a
//! total time limit that includes a slow body, and a size limit; every
//! retry and back-off fits inside one overall deadline.
//!
//! A registry (or whoever sits between it and us) may be hostile or just
//! broken: silent after accepting the connection, trickling one byte a
//! second, or sending more than it declared. None of that may stall
//! `vet-bom` past its deadline or fill memory: bodies stream into a
//! [`Sink`] (a file, for downloads) and are cut off at their bound, and
//! the time an attempt may take is the smaller of the per-request limit
//! and what is left of the deadline.
//!
//! **Invariant:** no call returns later than the deadline plus one read's
//! latency, however many retries are configured.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::registry::FetchError;

/// The time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The time one request may take, from connecting to the body's last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_BACKOFF_MS: u64 = 500;

/// When the whole operation must be over, and how it was given, for
/// messages.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// What is left, `None` once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_none()
    }

    /// The budget as given (`10m`, `90s`).
    pub fn describe(&self) -> String {
        humantime::format_duration(self.budget).to_string()
    }
}

/// Where a response body goes; written to as it arrives, started again
/// when a request is retried.
pub trait Sink: Write {
    fn restart(&mut self) -> std::io::Result<()>;
}

impl Sink for Vec<u8> {
    fn restart(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }
}

/// Why one attempt failed.
enum Attempt {
    /// Trying again may help (connection errors, timeouts, 5xx, 429).
    Transient(String),
    /// It will not (a 4xx, a body over its bound, a local write error).
    Fatal(String),
}

/// A blocking HTTP client with timeouts, size bounds and retries with
/// back-off, all within one deadline.
pub struct Http {
    client: reqwest::blocking::Client,
    retries: u32,
    backoff: Duration,
    request_timeout: Duration,
    deadline: Option<Deadline>,
}

impl Http {
    /// `CAPGATE_HTTP_RETRIES`, `CAPGATE_HTTP_BACKOFF_MS` and
    /// `CAPGATE_HTTP_TIMEOUT` (a duration: `30s`) tune retries and the
    /// per-request limit; `deadline` bounds everything.
    pub fn new(deadline: Option<Deadline>) -> Result<Http, FetchError> {
        // reqwest is built without a default crypto provider, so the process
        // chooses one; a second call (another registry) finds it installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("cargo-capgate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| FetchError::Network(format!("could not start an HTTP client: {e}")))?;
        let env_number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let request_timeout = match std::env::var("CAPGATE_HTTP_TIMEOUT") {
            Ok(text) => humantime::parse_duration(text.trim())
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    FetchError::Network(format!(
                        "CAPGATE_HTTP_TIMEOUT `{text}` is not a duration (30s, 2m)"
                    ))
                })?,
            Err(_) => REQUEST_TIMEOUT,
        };
        Ok(Http {
            client,
            retries: env_number("CAPGATE_HTTP_RETRIES").map_or(DEFAULT_RETRIES, |n| n as u32),
            backoff: Duration::from_millis(
                env_number("CAPGATE_HTTP_BACKOFF_MS").unwrap_or(DEFAULT_BACKOFF_MS),
            ),
            request_timeout,
            deadline,
        })
    }

    fn deadline_error(&self, url: &str, last: Option<&str>) -> FetchError {
        let budget = self.deadline.map(|d| d.describe()).unwrap_or_default();
        let last = last
            .map(|m| format!(" (last error: {m})"))
            .unwrap_or_default();
        FetchError::Deadline(format!(
            "the deadline of {budget} passed while fetching {url}{last}"
        ))
    }

    /// Fetches `url` into `sink`: `Ok(true)` with the body written, or
    /// `Ok(false)` for 404/410/451. Transient failures are retried with
    /// doubling back-off while the deadline allows.
    pub fn get(&self, url: &str, max_bytes: u64, sink: &mut dyn Sink) -> Result<bool, FetchError> {
        let mut attempt = 0;
        let mut last: Option<String> = None;
        loop {
            let remaining = match self.deadline {
                Some(deadline) => match deadline.remaining() {
                    Some(left) => left.min(self.request_timeout),
                    None => return Err(self.deadline_error(url, last.as_deref())),
                },
                None => self.request_timeout,
            };
            if attempt > 0 {
                sink.restart()
                    .map_err(|e| FetchError::Io(format!("{url}: could not restart: {e}")))?;
            }
            let message = match self.try_get(url, max_bytes, remaining, sink) {
                Ok(found) => return Ok(found),
                Err(Attempt::Fatal(message)) => {
                    return Err(FetchError::Network(format!("{url}: {message}")));
                }
                Err(Attempt::Transient(message)) => message,
            };
            if self.deadline.is_some_and(|d| d.passed()) {
                return Err(self.deadline_error(url, Some(&message)));
            }
            if attempt >= self.retries {
                let tries = if attempt == 0 {
                    String::new()
                } else {
                    format!(" (after {} attempts)", attempt + 1)
                };
                return Err(FetchError::Network(format!("{url}: {message}{tries}")));
            }
            let pause = self.backoff.saturating_mul(2u32.saturating_pow(attempt));
            // A pause that outlasts the deadline would only end in it.
            if let Some(deadline) = self.deadline
                && deadline.remaining().is_none_or(|left| left <= pause)
            {
                return Err(self.deadline_error(url, Some(&message)));
            }
            std::thread::sleep(pause);
            last = Some(message);
            attempt += 1;
        }
    }

    /// One request, given `limit` from connecting to the body's end.
    fn try_get(
        &self,
        url: &str,
        max_bytes: u64,
        limit: Duration,
        sink: &mut dyn Sink,
    ) -> Result<bool, Attempt> {
        let until = Instant::now() + limit;
        let timed_out = || {
            Attempt::Transient(format!(
                "no complete answer within {}",
                humantime::format_duration(limit)
            ))
        };
        let mut response = self.client.get(url).timeout(limit).send().map_err(|e| {
            if e.is_timeout() {
                timed_out()
            } else {
                Attempt::Transient(describe(&e))
            }
        })?;
        let status = response.status();
        match status.as_u16() {
            200 => {}
            404 | 410 | 451 => return Ok(false),
            429 | 500..=599 => return Err(Attempt::Transient(format!("server answered {status}"))),
            _ => return Err(Attempt::Fatal(format!("server answered {status}"))),
        }
        let too_large = || Attempt::Fatal(format!("response is larger than {max_bytes} bytes"));
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        // reqwest's limit covers the whole body too; checking the clock per
        // read as well keeps a trickle from outliving it by a read's wait.
        let mut buf = vec![0u8; 64 << 10];
        let mut received: u64 = 0;
        loop {
            if Instant::now() >= until {
                return Err(timed_out());
            }
            let n = match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) if Instant::now() >= until => return Err(timed_out()),
                Err(e) => return Err(Attempt::Transient(format!("download cut off: {e}"))),
            };
            received += n as u64;
            if received > max_bytes {
                return Err(too_large());
            }
            sink.write_all(&buf[..n])
                .map_err(|e| Attempt::Fatal(format!("could not store the response: {e}")))?;
        }
        Ok(true)
    }
}

/// reqwest's error with its causes, which hold the useful part
/// ("connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
