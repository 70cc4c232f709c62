//! The PSTN-type logs (`getPstnCalls`, `getDirectRoutingCalls`, and in beta `getSmsLog`,
//! `getPstnBlockedUsersLog`, `getPstnOnlineMeetingDialoutReport`): the window in pieces of at
//! most 90 days (Graph answers 406 beyond), every page (1,000 rows) followed by its next link,
//! each page handed on as Graph sent it: the pipeline knows these pages by their
//! `@odata.context` and merges their rows by id, as `convert` does with exported pages.

use crate::client::{GraphClient, Lane};
use crate::records::{Raw, next_link};
use crate::{Error, Result};
use cqlake_schema::calendar::format_timestamp_us;

/// The longest window Graph serves in one request.
pub const MAX_WINDOW_US: i64 = 90 * 86_400_000_000;

/// A log function of `/communications/callRecords`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// `getPstnCalls` (v1.0).
    Pstn,
    /// `getDirectRoutingCalls` (v1.0).
    DirectRouting,
    /// `getSmsLog` (beta).
    Sms,
    /// `getPstnBlockedUsersLog` (beta).
    BlockedUsers,
    /// `getPstnOnlineMeetingDialoutReport` (beta).
    Dialout,
}

impl Log {
    /// The API version and the function's name.
    pub fn function(self) -> (&'static str, &'static str) {
        match self {
            Log::Pstn => ("v1.0", "getPstnCalls"),
            Log::DirectRouting => ("v1.0", "getDirectRoutingCalls"),
            Log::Sms => ("beta", "getSmsLog"),
            Log::BlockedUsers => ("beta", "getPstnBlockedUsersLog"),
            Log::Dialout => ("beta", "getPstnOnlineMeetingDialoutReport"),
        }
    }
}

/// What a pull of one log did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LogStats {
    /// Pages read.
    pub pages: u64,
    /// Rows in them.
    pub rows: u64,
}

/// `[from, to)` in pieces of at most [`MAX_WINDOW_US`].
pub fn pieces(from_us: i64, to_us: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = from_us;
    while at < to_us {
        let end = (at + MAX_WINDOW_US).min(to_us);
        out.push((at, end));
        at = end;
    }
    out
}

/// Reads `log` for `[from_us, to_us)` and hands every page to `page` as Graph sent it. (The
/// functions' `toDateTime` is inclusive for some: the pieces touch at an instant, and rows
/// merge by id.)
pub async fn pull_log(
    client: &GraphClient,
    log: Log,
    from_us: i64,
    to_us: i64,
    page: &mut (dyn FnMut(Raw) -> Result<()> + Send),
) -> Result<LogStats> {
    let (version, name) = log.function();
    let mut stats = LogStats::default();
    for (f, t) in pieces(from_us, to_us) {
        let mut url = client.url(&format!(
            "/{version}/communications/callRecords/{name}(fromDateTime={},toDateTime={})",
            format_timestamp_us(f),
            format_timestamp_us(t)
        ));
        loop {
            let a = client.get(&url, Lane::Logs).await?;
            let path = crate::client::path_of(&url);
            if a.status == 404 {
                return Err(crate::client::graph_error(
                    &path,
                    404,
                    &a.body,
                    a.request_id,
                ));
            }
            let json: serde_json::Value =
                serde_json::from_slice(&a.body).map_err(|e| Error::Answer {
                    path: path.clone(),
                    what: format!("the answer is not JSON ({e})"),
                })?;
            stats.pages += 1;
            stats.rows += json["value"].as_array().map_or(0, |v| v.len() as u64);
            let next = next_link(&json);
            page(Raw {
                url: url.clone(),
                body: a.body,
            })?;
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    #[test]
    fn windows_are_cut_in_90_days() {
        let d = 86_400_000_000i64;
        assert_eq!(
            super::pieces(0, 200 * d),
            vec![(0, 90 * d), (90 * d, 180 * d), (180 * d, 200 * d)]
        );
    }
}
