//! Whether a lake holds personal values or pseudonyms of them, and under which key.
//!
//! A pseudonymised lake has an object [`PSEUDONYMS_FILE`] at its root, written when its first
//! writer made it, naming the key's fingerprint (never the key). A writer says what it writes
//! ([`Personal`]) and [`LakeWriter::open_as`](crate::LakeWriter::open_as) refuses a lake that
//! holds the other kind, or pseudonyms under another key: one lake never mixes them.

use crate::{Error, LakeLocation, Result};

/// The object that marks a pseudonymised lake, at the lake's root.
pub const PSEUDONYMS_FILE: &str = "_cqlake_pseudonyms.json";

/// What a writer writes into the personal columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Personal {
    /// The values as Graph sent them (the default).
    #[default]
    Raw,
    /// Pseudonyms under the key with this fingerprint.
    Pseudonymised {
        /// The key's fingerprint (`hmac-sha256:…`).
        fingerprint: String,
    },
    /// No new personal values, only the lake's own rewritten (optimize, vacuum): any lake.
    Unchanged,
}

/// The fingerprint of the key a lake's pseudonyms are made with, or `None` for a lake that
/// holds raw values (or does not exist).
pub async fn pseudonym_fingerprint(lake: &LakeLocation) -> Result<Option<String>> {
    let Some(v) = lake.read_json(PSEUDONYMS_FILE).await? else {
        return Ok(None);
    };
    match v.get("key_fingerprint").and_then(|f| f.as_str()) {
        Some(f) => Ok(Some(f.to_string())),
        None => Err(Error::Location(format!(
            "{}: no key_fingerprint in the mark of a pseudonymised lake",
            lake.join(PSEUDONYMS_FILE)
        ))),
    }
}

/// Checks that a writer of `personal` may write to `lake` (whose lock it holds), and marks a
/// new lake pseudonymised. Called before the lake's tables are created.
pub(crate) async fn check_or_mark(lake: &LakeLocation, personal: &Personal) -> Result<()> {
    let recorded = pseudonym_fingerprint(lake).await?;
    match (personal, recorded) {
        (Personal::Unchanged, _) | (Personal::Raw, None) => Ok(()),
        (Personal::Raw, Some(f)) => Err(Error::Personal(format!(
            "{lake} is pseudonymised (key {f}): write to it with --pseudonymise and its key \
             (CQLAKE_PSEUDONYM_KEY or --pseudonym-key-file)"
        ))),
        (Personal::Pseudonymised { fingerprint }, Some(f)) if *fingerprint == f => Ok(()),
        (Personal::Pseudonymised { fingerprint }, Some(f)) => Err(Error::Personal(format!(
            "{lake} is pseudonymised under another key (key {f}, given {fingerprint}): \
             its tokens would not match; use the lake's key"
        ))),
        (Personal::Pseudonymised { fingerprint }, None) => {
            if crate::table::has_table(lake, cqlake_schema::TableId::Calls.name()).await? {
                return Err(Error::Personal(format!(
                    "{lake} holds personal values as they are: --pseudonymise writes a new lake \
                     (one lake never mixes values and pseudonyms)"
                )));
            }
            mark(lake, fingerprint).await
        }
    }
}

/// Writes the mark of a lake pseudonymised under the key with `fingerprint`.
async fn mark(lake: &LakeLocation, fingerprint: &str) -> Result<()> {
    let body = serde_json::json!({
        "pseudonymised": true,
        "scheme": "HMAC-SHA-256 of the value trimmed and lower-cased, first 128 bits, psn_ and hex",
        "key_fingerprint": fingerprint,
    })
    .to_string();
    lake.write_object(PSEUDONYMS_FILE, body.into_bytes(), true)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo(f: &str) -> Personal {
        Personal::Pseudonymised {
            fingerprint: f.into(),
        }
    }

    #[tokio::test]
    async fn a_lake_holds_one_kind_of_personal_values() {
        let dir = tempfile::tempdir().unwrap();
        // A new lake is marked by its first pseudonymising writer.
        let lake = LakeLocation::from(dir.path().join("p"));
        check_or_mark(&lake, &pseudo("hmac-sha256:aa"))
            .await
            .unwrap();
        assert_eq!(
            pseudonym_fingerprint(&lake).await.unwrap().as_deref(),
            Some("hmac-sha256:aa")
        );
        check_or_mark(&lake, &pseudo("hmac-sha256:aa"))
            .await
            .unwrap();
        let other = check_or_mark(&lake, &pseudo("hmac-sha256:bb"))
            .await
            .unwrap_err()
            .to_string();
        assert!(other.contains("another key"), "{other}");
        let raw = check_or_mark(&lake, &Personal::Raw)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            raw.contains("is pseudonymised") && raw.contains("--pseudonymise"),
            "{raw}"
        );
        check_or_mark(&lake, &Personal::Unchanged).await.unwrap();
        // A lake with raw values stays so.
        let plain = LakeLocation::from(dir.path().join("r"));
        check_or_mark(&plain, &Personal::Raw).await.unwrap();
        crate::open_tables(&plain).await.unwrap();
        let e = check_or_mark(&plain, &pseudo("hmac-sha256:aa"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds personal values"), "{e}");
        assert_eq!(pseudonym_fingerprint(&plain).await.unwrap(), None);
    }
}
