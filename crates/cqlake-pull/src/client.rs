//! The HTTP side: authenticated GETs to Graph with bounded concurrency, a client-side rate
//! limit, `Retry-After` honoured exactly, exponential back-off with jitter, a retry budget, and
//! next links followed only on the configured Graph host.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;

use crate::auth::{TokenSource, url_path, uuid_v4};
use crate::{Error, Result};

/// What the client counted.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// HTTP requests sent to Graph (retries included).
    pub requests: AtomicU64,
    /// Answers 429.
    pub throttled: AtomicU64,
    /// Requests sent again (after 429, 503, 504, a connection error, or a refused token).
    pub retries: AtomicU64,
    /// Milliseconds spent waiting before retries.
    pub waited_ms: AtomicU64,
}

/// Paces requests: at most one per `interval`, on average (a reservation per request).
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl RateLimit {
    /// At most `requests` every `per`.
    pub fn new(requests: u32, per: Duration) -> Self {
        RateLimit {
            interval: per / requests.max(1),
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// How a request is paced (Graph's limits differ by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Listing call records (40 requests / 20 s).
    List,
    /// Getting call records and their session and participant pages (1,500 / 20 s per tenant).
    Get,
    /// The PSTN-type logs (50 / 60 s per function).
    Logs,
}

/// The client's settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests in flight at most. Default 4.
    pub concurrency: usize,
    /// Tries of one request at most (the first included). Default 8.
    pub max_tries: u32,
    /// Retries allowed in the whole run. Default 2,000.
    pub retry_budget: u64,
    /// The back-off of the first retry without `Retry-After`; doubled each time, up to
    /// [`ClientOptions::max_backoff`]. Default 1 s.
    pub base_backoff: Duration,
    /// The longest back-off. Default 60 s.
    pub max_backoff: Duration,
    /// Requests per 20 s when listing. Default 36 (Graph allows 40).
    pub list_per_20s: u32,
    /// Requests per 20 s when getting records. Default 1,200 (Graph allows 1,500).
    pub get_per_20s: u32,
    /// Requests per 60 s for the logs. Default 45 (Graph allows 50 per function).
    pub logs_per_60s: u32,
    /// Timeout of one request. Default 120 s.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            concurrency: 4,
            max_tries: 8,
            retry_budget: 2_000,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            list_per_20s: 36,
            get_per_20s: 1_200,
            logs_per_60s: 45,
            timeout: Duration::from_secs(120),
        }
    }
}

/// An answer of Graph: its status, its body and its `request-id`.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: bytes::Bytes,
    /// Graph's `request-id` header.
    pub request_id: Option<String>,
}

/// An authenticated Graph client. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    graph: reqwest::Url,
    tokens: TokenSource,
    options: ClientOptions,
    permits: tokio::sync::Semaphore,
    lanes: [RateLimit; 3],
    stats: ClientStats,
    retries_left: AtomicU64,
    rng: SystemRandom,
    jitter: AtomicU64,
}

impl GraphClient {
    /// A client of Graph at `graph_url` (its root, such as `https://graph.microsoft.com`),
    /// authenticated by `tokens`.
    pub fn new(
        http: reqwest::Client,
        graph_url: &str,
        tokens: TokenSource,
        options: ClientOptions,
    ) -> Result<GraphClient> {
        let graph = reqwest::Url::parse(graph_url)
            .map_err(|e| Error::Config(format!("--graph-url {graph_url:?}: {e}")))?;
        if !matches!(graph.scheme(), "http" | "https") || graph.host_str().is_none() {
            return Err(Error::Config(format!(
                "--graph-url {graph_url:?} is not an http(s) URL"
            )));
        }
        let lanes = [
            RateLimit::new(options.list_per_20s, Duration::from_secs(20)),
            RateLimit::new(options.get_per_20s, Duration::from_secs(20)),
            RateLimit::new(options.logs_per_60s, Duration::from_secs(60)),
        ];
        let seed = crate::auth::unix_now() ^ (std::process::id() as u64) << 32;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                graph,
                tokens,
                permits: tokio::sync::Semaphore::new(options.concurrency.max(1)),
                lanes,
                stats: ClientStats::default(),
                retries_left: AtomicU64::new(options.retry_budget),
                options,
                rng: SystemRandom::new(),
                jitter: AtomicU64::new(seed | 1),
            }),
        })
    }

    /// What the client counted so far.
    pub fn stats(&self) -> &ClientStats {
        &self.inner.stats
    }

    /// Tokens fetched so far.
    pub fn tokens_fetched(&self) -> u64 {
        self.inner.tokens.fetched()
    }

    /// The URL of `path_and_query` (starting with `/v1.0/` or `/beta/`) on the Graph host.
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.inner.graph.as_str().trim_end_matches('/'),
            path_and_query
        )
    }

    /// Checks that `url` is on the configured Graph host (scheme, host and port): next links
    /// are followed only there, so the token never leaves for another host.
    pub fn check_host(&self, url: &str) -> Result<reqwest::Url> {
        let u = reqwest::Url::parse(url).map_err(|e| Error::ForeignHost {
            host: format!("{url:?} ({e})"),
        })?;
        let g = &self.inner.graph;
        if u.scheme() != g.scheme()
            || u.host_str() != g.host_str()
            || u.port_or_known_default() != g.port_or_known_default()
        {
            return Err(Error::ForeignHost {
                host: format!(
                    "{}://{}{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                ),
            });
        }
        Ok(u)
    }

    /// GETs `url` (on the Graph host) in `lane`. 2xx and 404 are answers; 429, 503, 504 and
    /// connection errors are retried; a refused token (401) is replaced once; any other status
    /// is an error naming the path, the status, Graph's error code and the request id.
    pub async fn get(&self, url: &str, lane: Lane) -> Result<Answer> {
        let url = self.check_host(url)?;
        let path = url.path().to_string();
        let inner = &self.inner;
        let mut tries = 0u32;
        let mut refreshed = false;
        loop {
            tries += 1;
            let lane_limit = &inner.lanes[match lane {
                Lane::List => 0,
                Lane::Get => 1,
                Lane::Logs => 2,
            }];
            lane_limit.acquire().await;
            let token = inner.tokens.token().await?;
            let sent = {
                let _permit = inner.permits.acquire().await.expect("semaphore open");
                inner.stats.requests.fetch_add(1, Ordering::Relaxed);
                let request_id = uuid_v4(&inner.rng)?;
                let r = inner
                    .http
                    .get(url.clone())
                    .bearer_auth(token.value.expose())
                    .header("accept", "application/json")
                    .header("client-request-id", request_id)
                    .timeout(inner.options.timeout)
                    .send()
                    .await;
                match r {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let headers = resp.headers().clone();
                        match resp.bytes().await {
                            Ok(body) => Ok((status, headers, body)),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            };
            let wait = match sent {
                Err(e) => {
                    let reason = describe_reqwest(&e);
                    if tries >= inner.options.max_tries || !self.spend_retry() {
                        return Err(Error::Network { path, reason });
                    }
                    self.backoff(tries)
                }
                Ok((status, headers, body)) => {
                    let request_id = headers
                        .get("request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    match status {
                        200..=299 | 404 => {
                            return Ok(Answer {
                                status,
                                body,
                                request_id,
                            });
                        }
                        401 if !refreshed => {
                            refreshed = true;
                            inner.tokens.refused(&token).await;
                            inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        429 | 503 | 504 => {
                            if status == 429 {
                                inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                            }
                            if tries >= inner.options.max_tries || !self.spend_retry() {
                                return Err(graph_error(&path, status, &body, request_id));
                            }
                            match retry_after(&headers) {
                                Some(d) => d,
                                None => self.backoff(tries),
                            }
                        }
                        _ => return Err(graph_error(&path, status, &body, request_id)),
                    }
                }
            };
            inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            inner
                .stats
                .waited_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    fn spend_retry(&self) -> bool {
        self.inner
            .retries_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Exponential back-off for try `tries` (1-based), with "full jitter" between half and all
    /// of it.
    fn backoff(&self, tries: u32) -> Duration {
        let o = &self.inner.options;
        let exp = o
            .base_backoff
            .saturating_mul(1u32 << (tries - 1).min(16))
            .min(o.max_backoff);
        // xorshift64: jitter needs no cryptographic randomness.
        let mut x = self.inner.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.inner.jitter.store(x, Ordering::Relaxed);
        let frac = 0.5 + (x % 1_000) as f64 / 2_000.0;
        exp.mul_f64(frac)
    }
}

/// The `Retry-After` of an answer, in (possibly fractional) seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3_600.0)))
}

/// The error for a Graph answer with status `status`.
pub fn graph_error(path: &str, status: u16, body: &[u8], request_id: Option<String>) -> Error {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let e = &json["error"];
    let request_id =
        request_id.or_else(|| e["innerError"]["request-id"].as_str().map(str::to_string));
    Error::Graph {
        path: path.to_string(),
        status,
        code: e["code"].as_str().unwrap_or("").to_string(),
        message: e["message"].as_str().unwrap_or("").to_string(),
        request_id,
    }
}

/// A transport error in words, without the URL (which the caller names by its path).
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut short"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// `url` with `path` as the path shown in messages.
pub fn path_of(url: &str) -> String {
    url_path(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_to_the_millisecond() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2.128".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2_128)));
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn graph_errors_name_path_status_code_and_request_id() {
        let body = br#"{"error":{"code":"Forbidden","message":"Insufficient privileges","innerError":{"date":"2026-12-01T00:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        let e = graph_error("/v1.0/communications/callRecords", 403, body, None).to_string();
        for part in [
            "/v1.0/communications/callRecords",
            "403",
            "Forbidden",
            "r-1",
        ] {
            assert!(e.contains(part), "{e}");
        }
    }
}
