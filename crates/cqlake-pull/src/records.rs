//! Call records: listing a window day by day, comparing with what the lake holds, and getting
//! each new or newer record whole (every `sessions@odata.nextLink` and
//! `participants_v2@odata.nextLink` followed to the end), as one JSON document.

use futures::StreamExt;
use serde_json::Value;

use crate::client::{Answer, GraphClient, Lane};
use crate::{Error, Result};
use cqlake_schema::calendar::{format_timestamp_us, parse_timestamp_us};

/// What orders two versions of a call record: `version`, then `lastModifiedDateTime` (µs); as
/// the lake orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordKey {
    /// `version` (null sorts first).
    pub version: Option<i64>,
    /// `lastModifiedDateTime` in µs since the epoch (null sorts first).
    pub last_modified_us: Option<i64>,
}

/// What the lake holds already: the key of a call's record, if any.
pub trait Known: Sync {
    /// The key of the lake's record of call `id`.
    fn key(&self, id: &str) -> Option<RecordKey>;
}

impl Known for std::collections::HashMap<String, RecordKey> {
    fn key(&self, id: &str) -> Option<RecordKey> {
        self.get(id).copied()
    }
}

/// A call record as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Its id.
    pub id: String,
    /// Its version and last modification.
    pub key: RecordKey,
    /// Its `startDateTime` in µs.
    pub start_us: Option<i64>,
}

/// A raw Graph answer, for an archive: the URL it answered and its body.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The URL requested.
    pub url: String,
    /// The body as Graph sent it.
    pub body: bytes::Bytes,
}

/// Where pulled data goes.
pub trait Sink {
    /// A call record, whole: every session (with its segments) and every participant, as one
    /// JSON document with no next link left.
    fn record(&mut self, id: &str, json: Vec<u8>) -> Result<()>;
    /// The raw answers behind a listing page or a record (for `--archive`); ignored by default.
    fn raw(&mut self, _answers: &[Raw]) -> Result<()> {
        Ok(())
    }
    /// Something happened (for progress and the state of the run).
    fn event(&mut self, _event: Event<'_>) {}
}

/// Progress of a pull.
#[derive(Debug)]
pub enum Event<'a> {
    /// The records of one day of the window were listed.
    Listed {
        /// The day's start (µs).
        from_us: i64,
        /// Which day of the window (1-based).
        day: usize,
        /// Days in the window.
        days: usize,
        /// Records listed.
        listed: usize,
        /// Of those, new or newer than the lake's.
        to_fetch: usize,
        /// Listing pages read.
        pages: u64,
    },
    /// A record was got whole.
    Fetched {
        /// Its id.
        id: &'a str,
    },
    /// A listed record answered 404: not ready yet (Graph publishes a record up to 150 minutes
    /// after its call, and lists it before); fetched again next time.
    Pending {
        /// The record as listed.
        listed: &'a Listed,
    },
}

/// The counts of a pull of call records.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecordStats {
    /// Records listed.
    pub listed: u64,
    /// Records got (new or newer than the lake's).
    pub fetched: u64,
    /// Records listed with the version the lake holds (or an older one): not got again.
    pub unchanged: u64,
    /// Records that answered 404 (not ready yet).
    pub pending: u64,
    /// Records pending from an earlier run, outside the window, asked for by id.
    pub retried: u64,
    /// Listing pages read.
    pub list_pages: u64,
    /// Session and participant pages followed.
    pub next_pages: u64,
}

/// Lists the call records that started in `[from_us, to_us)`, day by day, gets those newer than
/// `known` has (up to `concurrency` at a time) and hands each, whole, to `sink`; then gets
/// each of `again` (records that answered 404 on an earlier run) that the window did not list.
pub async fn pull_records(
    client: &GraphClient,
    (from_us, to_us): (i64, i64),
    known: &dyn Known,
    again: &[Listed],
    concurrency: usize,
    sink: &mut (dyn Sink + Send),
) -> Result<RecordStats> {
    let mut stats = RecordStats::default();
    let mut seen = std::collections::HashSet::new();
    let days = days(from_us, to_us);
    for (day, &(from, to)) in days.iter().enumerate() {
        let (listed, raws, pages) = list(client, from, to).await?;
        sink.raw(&raws)?;
        stats.list_pages += pages;
        let listed_n = listed.len();
        stats.listed += listed_n as u64;
        seen.extend(listed.iter().map(|l| l.id.clone()));
        let wanted: Vec<Listed> = listed
            .into_iter()
            .filter(|l| known.key(&l.id).is_none_or(|k| l.key > k))
            .collect();
        stats.unchanged += (listed_n - wanted.len()) as u64;
        sink.event(Event::Listed {
            from_us: from,
            day: day + 1,
            days: days.len(),
            listed: listed_n,
            to_fetch: wanted.len(),
            pages,
        });
        fetch_all(client, wanted, concurrency, sink, &mut stats).await?;
    }
    // Pending records the window did not list (they started before it): asked for by id.
    let again: Vec<Listed> = again
        .iter()
        .filter(|l| !seen.contains(&l.id))
        .filter(|l| known.key(&l.id).is_none_or(|k| l.key > k))
        .cloned()
        .collect();
    stats.retried = again.len() as u64;
    fetch_all(client, again, concurrency, sink, &mut stats).await?;
    Ok(stats)
}

/// Gets each of `wanted` (up to `concurrency` at a time) and hands it to `sink`.
async fn fetch_all(
    client: &GraphClient,
    wanted: Vec<Listed>,
    concurrency: usize,
    sink: &mut (dyn Sink + Send),
    stats: &mut RecordStats,
) -> Result<()> {
    let mut fetches = futures::stream::iter(wanted.into_iter().map(|l| async move {
        let got = fetch(client, &l.id).await;
        (l, got)
    }))
    .buffer_unordered(concurrency.max(1));
    while let Some((l, got)) = fetches.next().await {
        match got? {
            Some(f) => {
                stats.next_pages += f.next_pages;
                sink.raw(&f.raw)?;
                sink.record(&l.id, f.json)?;
                stats.fetched += 1;
                sink.event(Event::Fetched { id: &l.id });
            }
            None => {
                stats.pending += 1;
                sink.event(Event::Pending { listed: &l });
            }
        }
    }
    Ok(())
}

/// `[from, to)` cut at every UTC midnight.
pub fn days(from_us: i64, to_us: i64) -> Vec<(i64, i64)> {
    const DAY: i64 = 86_400_000_000;
    let mut out = Vec::new();
    let mut at = from_us;
    while at < to_us {
        let next = ((at.div_euclid(DAY)) + 1) * DAY;
        out.push((at, next.min(to_us)));
        at = next;
    }
    out
}

/// The records listed for `[from, to)`, the raw pages, and how many pages.
pub async fn list(
    client: &GraphClient,
    from: i64,
    to: i64,
) -> Result<(Vec<Listed>, Vec<Raw>, u64)> {
    let filter = format!(
        "startDateTime ge {} and startDateTime lt {}",
        format_timestamp_us(from),
        format_timestamp_us(to)
    );
    let mut url = client.url(&format!(
        "/v1.0/communications/callRecords?$filter={}",
        filter.replace(' ', "%20")
    ));
    let mut out = Vec::new();
    let mut raws = Vec::new();
    let mut pages = 0;
    loop {
        let a = client.get(&url, Lane::List).await?;
        let page = json_of(&url, &a)?;
        pages += 1;
        let items = page["value"].as_array().ok_or_else(|| Error::Answer {
            path: crate::client::path_of(&url),
            what: "a listing page without a `value` array".into(),
        })?;
        for item in items {
            let Some(id) = item["id"].as_str() else {
                continue;
            };
            out.push(Listed {
                id: id.to_string(),
                key: key_of(item),
                start_us: item["startDateTime"].as_str().and_then(parse_timestamp_us),
            });
        }
        raws.push(Raw {
            url: url.clone(),
            body: a.body,
        });
        match next_link(&page) {
            Some(next) => url = next,
            None => break,
        }
    }
    Ok((out, raws, pages))
}

fn key_of(item: &Value) -> RecordKey {
    RecordKey {
        version: item["version"].as_i64(),
        last_modified_us: item["lastModifiedDateTime"]
            .as_str()
            .and_then(parse_timestamp_us),
    }
}

/// A record got whole.
#[derive(Debug)]
pub struct Fetched {
    /// The record with every session and participant, no next link left.
    pub json: Vec<u8>,
    /// The raw answers it was made of.
    pub raw: Vec<Raw>,
    /// Session and participant pages followed.
    pub next_pages: u64,
}

/// Gets call record `id` whole: `$expand=sessions($expand=segments)` and
/// `$expand=participants_v2` (Graph expands one relation at a time), each next link followed to
/// the end. `None` when Graph answers 404 (not ready yet, or gone).
pub async fn fetch(client: &GraphClient, id: &str) -> Result<Option<Fetched>> {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(Error::Answer {
            path: "/v1.0/communications/callRecords".into(),
            what: format!("a listed call id that is not an id: {id:?}"),
        });
    }
    let base = client.url(&format!("/v1.0/communications/callRecords/{id}"));
    // The two Gets must see one version: if the record changed in between, get both again.
    for _ in 0..3 {
        let mut raw = Vec::new();
        let mut next_pages = 0;
        let url = format!("{base}?$expand=sessions($expand=segments)");
        let a = client.get(&url, Lane::Get).await?;
        if a.status == 404 {
            return Ok(None);
        }
        let mut record = json_of(&url, &a)?;
        raw.push(Raw { url, body: a.body });
        next_pages += follow(client, &mut record, "sessions", &mut raw).await?;
        let url = format!("{base}?$expand=participants_v2");
        let a = client.get(&url, Lane::Get).await?;
        if a.status == 404 {
            return Ok(None);
        }
        let mut people = json_of(&url, &a)?;
        raw.push(Raw { url, body: a.body });
        next_pages += follow(client, &mut people, "participants_v2", &mut raw).await?;
        if key_of(&people) != key_of(&record) {
            continue;
        }
        let obj = record.as_object_mut().ok_or_else(|| Error::Answer {
            path: crate::client::path_of(&base),
            what: "the call record is not a JSON object".into(),
        })?;
        if let Some(p) = people.get_mut("participants_v2") {
            obj.insert("participants_v2".into(), p.take());
        }
        return Ok(Some(Fetched {
            json: serde_json::to_vec(&record).expect("JSON values serialise"),
            raw,
            next_pages,
        }));
    }
    Err(Error::Answer {
        path: crate::client::path_of(&base),
        what: "the record changed between its sessions and its participants three times running"
            .into(),
    })
}

/// Follows `<name>@odata.nextLink` of `record` to the end, appending each page's `value` to its
/// `name` array, and removes the link. Returns the pages followed.
async fn follow(
    client: &GraphClient,
    record: &mut Value,
    name: &str,
    raw: &mut Vec<Raw>,
) -> Result<u64> {
    let link_key = format!("{name}@odata.nextLink");
    let mut pages = 0;
    let obj = match record.as_object_mut() {
        Some(o) => o,
        None => return Ok(0),
    };
    let mut next = obj
        .remove(&link_key)
        .and_then(|v| v.as_str().map(str::to_string));
    while let Some(url) = next {
        let a = client.get(&url, Lane::Get).await?;
        if a.status == 404 {
            return Err(Error::Answer {
                path: crate::client::path_of(&url),
                what: format!("a {name} page answered 404 while its record did not"),
            });
        }
        let page = json_of(&url, &a)?;
        pages += 1;
        let items = page["value"].as_array().cloned().unwrap_or_default();
        let list = obj
            .entry(name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.extend(items);
        }
        next = next_link(&page);
        raw.push(Raw { url, body: a.body });
    }
    Ok(pages)
}

/// A page's `@odata.nextLink` (also spelt `@odata.NextLink` by some functions).
pub fn next_link(page: &Value) -> Option<String> {
    page.get("@odata.nextLink")
        .or_else(|| page.get("@odata.NextLink"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn json_of(url: &str, a: &Answer) -> Result<Value> {
    if a.status == 404 {
        return Err(crate::client::graph_error(
            &crate::client::path_of(url),
            404,
            &a.body,
            a.request_id.clone(),
        ));
    }
    serde_json::from_slice(&a.body).map_err(|e| Error::Answer {
        path: crate::client::path_of(url),
        what: format!(
            "the answer is not JSON ({e}){}",
            a.request_id
                .as_ref()
                .map(|r| format!(" (request id {r})"))
                .unwrap_or_default()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_cut_at_midnight() {
        let h = 3_600_000_000i64;
        let d = 24 * h;
        assert_eq!(
            days(10 * d + 5 * h, 12 * d + 2 * h),
            vec![
                (10 * d + 5 * h, 11 * d),
                (11 * d, 12 * d),
                (12 * d, 12 * d + 2 * h)
            ]
        );
        assert!(days(5, 5).is_empty());
    }

    #[test]
    fn keys_order_by_version_then_modification() {
        let k = |v, m| RecordKey {
            version: v,
            last_modified_us: m,
        };
        assert!(k(Some(2), Some(1)) > k(Some(1), Some(9)));
        assert!(k(Some(2), Some(5)) > k(Some(2), Some(4)));
        assert!(k(Some(1), None) > k(None, Some(9)));
    }
}
