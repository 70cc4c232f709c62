//! Meeting recordings: the `getAllRecordings` delta query of each organizer, resumed from the
//! link the lake's `sync_state` keeps (the last `@odata.nextLink` of an unfinished round, else
//! the last `@odata.deltaLink`), every page followed to the round's `@odata.deltaLink`, each page
//! handed on as Graph sent it (the pipeline knows these pages and merges recordings by id, and
//! records the links in `sync_state`). A `410 Gone` or a `syncStateNotFound` error means the
//! state expired: a full round starts again.

use crate::client::{GraphClient, Lane};
use crate::records::{Raw, next_link};
use crate::{Error, Result};
use cqlake_schema::calendar::format_timestamp_us;

/// What a pull of one organizer's recordings did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecordingStats {
    /// Pages read.
    pub pages: u64,
    /// Recordings on them.
    pub recordings: u64,
    /// Whether the saved state had expired and a full round was made.
    pub restarted: bool,
}

/// The first link of a full round for `organizer` (a user id), from `from_us`.
pub fn start_link(client: &GraphClient, organizer: &str, from_us: i64) -> Result<String> {
    if organizer.is_empty()
        || !organizer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(Error::Config(format!(
            "recordings: {organizer:?} is not a user id (one id or user principal name a line)"
        )));
    }
    Ok(client.url(&format!(
        "/v1.0/users/{organizer}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{organizer}',startDateTime={})/delta",
        format_timestamp_us(from_us)
    )))
}

/// Reads `organizer`'s recordings from `resume` (or a full round from `from_us`) to the end of
/// the round, handing every page to `page`.
pub async fn pull_recordings(
    client: &GraphClient,
    organizer: &str,
    resume: Option<&str>,
    from_us: i64,
    page: &mut (dyn FnMut(Raw) -> Result<()> + Send),
) -> Result<RecordingStats> {
    let fresh = start_link(client, organizer, from_us)?;
    let mut stats = RecordingStats::default();
    let mut url = resume.map_or_else(|| fresh.clone(), str::to_string);
    let mut resumed = resume.is_some();
    loop {
        let answer = match client.get(&url, Lane::Get).await {
            Err(e) if resumed && expired(&e) => {
                // The saved state is gone: a full round, once.
                resumed = false;
                stats.restarted = true;
                url = fresh.clone();
                continue;
            }
            r => r?,
        };
        let path = crate::client::path_of(&url);
        if answer.status == 404 {
            return Err(crate::client::graph_error(
                &path,
                404,
                &answer.body,
                answer.request_id,
            ));
        }
        let json: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| Error::Answer {
                path: path.clone(),
                what: format!("the answer is not JSON ({e})"),
            })?;
        stats.pages += 1;
        stats.recordings += json["value"].as_array().map_or(0, |v| v.len() as u64);
        let next = next_link(&json);
        let delta = json["@odata.deltaLink"].as_str().map(str::to_string);
        page(Raw {
            url: url.clone(),
            body: answer.body,
        })?;
        match (next, delta) {
            (Some(n), _) => url = n,
            (None, Some(_)) => return Ok(stats),
            (None, None) => {
                return Err(Error::Answer {
                    path,
                    what: "a delta page with neither @odata.nextLink nor @odata.deltaLink".into(),
                });
            }
        }
    }
}

/// Whether `e` says the delta state expired.
fn expired(e: &Error) -> bool {
    match e {
        Error::Graph { status, code, .. } => {
            *status == 410
                || code.eq_ignore_ascii_case("syncStateNotFound")
                || code.eq_ignore_ascii_case("resyncRequired")
        }
        _ => false,
    }
}
