//! Personal data in the cqlake lake: pseudonyms.
//!
//! The schema marks every column that holds personal data ([`cqlake_schema::Column::personal`]).
//! A lake converted with `--pseudonymise` holds, in those columns, a keyed token of each value in
//! place of the value: `psn_` and 32 hex digits, the first 128 bits of HMAC-SHA-256 under the
//! lake's key of the value trimmed and lower-cased. The same value gives the same token in every
//! table, run and lake under one key, so per-user and per-device analysis still works, while the
//! value cannot be found from the token without the key. `extra` (keys the schema does not
//! declare) has every string value replaced so, and a recordings query link has the organizer's
//! user id inside it replaced (`pull` puts the id back before it calls Graph).
//!
//! ```
//! use cqlake_privacy::{PseudonymKey, Pseudonymiser};
//!
//! let key = PseudonymKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
//! let p = Pseudonymiser::new(&key);
//! let token = p.token("Jane@Contoso.com");
//! assert!(token.starts_with("psn_") && token.len() == 36);
//! assert_eq!(token, p.token(" jane@contoso.com"));
//! assert_eq!(p.token(&token), token); // a token stays as it is
//! assert!(PseudonymKey::new(b"too short".to_vec()).is_err());
//! ```
#![deny(missing_docs)]

mod batch;
mod error;
pub mod person;

use std::path::Path;

pub use batch::{Tokeniser, is_link_column};
pub use error::{Error, Result};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "psn_";
/// Hex digits after [`TOKEN_PREFIX`]: 128 bits.
const TOKEN_HEX: usize = 32;
/// What a token's HMAC input starts with (so that a token never equals the fingerprint's HMAC).
const TOKEN_DOMAIN: &[u8] = b"cqlake pseudonym v1\0";
/// The fingerprint's HMAC input.
const FINGERPRINT_DOMAIN: &[u8] = b"cqlake pseudonym key fingerprint v1";

/// The environment variable that holds the key (its text, UTF-8).
pub const KEY_ENV: &str = "CQLAKE_PSEUDONYM_KEY";

/// The secret a lake's pseudonyms are made with: at least [`PseudonymKey::MIN_BYTES`] bytes.
/// Its `Debug` shows the fingerprint, never the key.
#[derive(Clone)]
pub struct PseudonymKey {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PseudonymKey({})", self.fingerprint())
    }
}

impl PseudonymKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_BYTES: usize = 32;

    /// The key made of `bytes`; fewer than [`PseudonymKey::MIN_BYTES`] are refused.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(Error::KeyTooShort { len: bytes.len() });
        }
        Ok(PseudonymKey { bytes })
    }

    /// The key in file `path`: its bytes, without one trailing line break (`\n` or `\r\n`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut bytes = std::fs::read(path).map_err(|source| Error::KeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.ends_with(b"\n") {
            bytes.pop();
            if bytes.ends_with(b"\r") {
                bytes.pop();
            }
        }
        Self::new(bytes)
    }

    /// The key's fingerprint, `hmac-sha256:` and 16 hex digits: what a lake records of its key
    /// (never the key, from which it cannot be computed back). Two keys have the same
    /// fingerprint only by a 1 in 2⁶⁴ chance.
    pub fn fingerprint(&self) -> String {
        let tag = ring::hmac::sign(&self.hmac(), FINGERPRINT_DOMAIN);
        format!("hmac-sha256:{}", hex(&tag.as_ref()[..8]))
    }

    fn hmac(&self) -> ring::hmac::Key {
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.bytes)
    }
}

/// Makes the tokens of personal values under one key. See the [crate documentation](crate).
#[derive(Clone)]
pub struct Pseudonymiser {
    key: ring::hmac::Key,
    fingerprint: String,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pseudonymiser({})", self.fingerprint)
    }
}

impl Pseudonymiser {
    /// A pseudonymiser under `key`.
    pub fn new(key: &PseudonymKey) -> Self {
        Pseudonymiser {
            key: key.hmac(),
            fingerprint: key.fingerprint(),
        }
    }

    /// The fingerprint of the key ([`PseudonymKey::fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The token of `value`: [`TOKEN_PREFIX`] and 32 hex digits of HMAC-SHA-256 of the value
    /// trimmed and lower-cased (identifiers, UPNs, e-mail and IP addresses are case-blind). An
    /// empty value stays empty, and a token stays as it is.
    pub fn token(&self, value: &str) -> String {
        if is_token(value) {
            return value.to_string();
        }
        let v = value.trim();
        if v.is_empty() {
            return String::new();
        }
        let mut ctx = ring::hmac::Context::with_key(&self.key);
        ctx.update(TOKEN_DOMAIN);
        if v.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            ctx.update(v.to_lowercase().as_bytes());
        } else {
            ctx.update(v.as_bytes());
        }
        let tag = ctx.sign();
        let mut out = String::with_capacity(TOKEN_PREFIX.len() + TOKEN_HEX);
        out.push_str(TOKEN_PREFIX);
        out.push_str(&hex(&tag.as_ref()[..TOKEN_HEX / 2]));
        out
    }

    /// A recordings query link (`…getAllRecordings(meetingOrganizerUserId='ID',…)…`, `users/ID/…`,
    /// `users(ID)`) with every user id inside it replaced by its token, the rest as it is.
    pub fn link(&self, link: &str) -> String {
        batch::map_link_ids(link, |id| self.token(id))
    }

    /// `link` as [`Pseudonymiser::link`] made it, with the token of `id` put back to `id`: the
    /// link Graph answers, for a caller that knows whose query it is.
    pub fn restore_link(&self, link: &str, id: &str) -> String {
        let token = self.token(id);
        if token.is_empty() {
            return link.to_string();
        }
        link.replace(&token, id)
    }

    /// A [`Tokeniser`]: tokens of batches, each value's token made once.
    pub fn tokeniser(&self) -> Tokeniser<'_> {
        Tokeniser::new(self)
    }
}

/// Whether `value` is a token ([`TOKEN_PREFIX`] and 32 lower-case hex digits).
pub fn is_token(value: &str) -> bool {
    value.len() == TOKEN_PREFIX.len() + TOKEN_HEX
        && value.starts_with(TOKEN_PREFIX)
        && value[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PseudonymKey {
        PseudonymKey::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn a_token_depends_on_the_key_and_the_value_only() {
        let a = Pseudonymiser::new(&key(1));
        let b = Pseudonymiser::new(&key(2));
        assert_eq!(a.token("jane@contoso.com"), a.token("JANE@contoso.com "));
        assert_ne!(a.token("jane@contoso.com"), b.token("jane@contoso.com"));
        assert_ne!(a.token("jane@contoso.com"), a.token("john@contoso.com"));
        assert_eq!(a.token(""), "");
        assert_eq!(a.token("  "), "");
        assert!(is_token(&a.token("10.0.0.1")));
        assert!(!is_token("psn_XYZ"));
        // Known answer: HMAC-SHA-256 under 32 bytes of 0x01 of the domain and "jane".
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[1u8; 32]),
            b"cqlake pseudonym v1\0jane",
        );
        assert_eq!(a.token("Jane"), format!("psn_{}", hex(&tag.as_ref()[..16])));
    }

    #[test]
    fn keys_shorter_than_32_bytes_are_refused_and_never_shown() {
        let e = PseudonymKey::new(vec![7; 31]).unwrap_err();
        assert!(e.to_string().contains("31 bytes"), "{e}");
        let k = PseudonymKey::new(b"correct horse battery staple 1234".to_vec()).unwrap();
        let shown = format!("{k:?} {:?}", Pseudonymiser::new(&k));
        assert!(!shown.contains("horse"), "{shown}");
        assert!(k.fingerprint().starts_with("hmac-sha256:") && k.fingerprint().len() == 28);
        assert_ne!(k.fingerprint(), key(1).fingerprint());
    }

    #[test]
    fn a_key_file_loses_one_trailing_line_break() {
        let dir = std::env::temp_dir().join(format!("cqlake-privacy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("key");
        std::fs::write(
            &f,
            [b'k'; 32]
                .iter()
                .chain(b"\r\n")
                .copied()
                .collect::<Vec<u8>>(),
        )
        .unwrap();
        let from_file = PseudonymKey::from_file(&f).unwrap();
        assert_eq!(
            from_file.fingerprint(),
            PseudonymKey::new(vec![b'k'; 32]).unwrap().fingerprint()
        );
        std::fs::write(&f, b"short\n").unwrap();
        assert!(matches!(
            PseudonymKey::from_file(&f),
            Err(Error::KeyTooShort { len: 5 })
        ));
        let missing = PseudonymKey::from_file(&dir.join("absent")).unwrap_err();
        assert!(missing.to_string().contains("absent"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_keep_their_shape_with_the_user_ids_tokenised() {
        let p = Pseudonymiser::new(&key(3));
        let link = "https://graph.microsoft.com/v1.0/users(8b08)/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b08',startDateTime=2023-01-01T00:00:00Z)/delta?$skipToken=abc";
        let t = p.token("8b08");
        let out = p.link(link);
        assert_eq!(
            out,
            format!(
                "https://graph.microsoft.com/v1.0/users({t})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{t}',startDateTime=2023-01-01T00:00:00Z)/delta?$skipToken=abc"
            )
        );
        assert_eq!(p.restore_link(&out, "8b08"), link);
        assert_eq!(p.link(&out), out, "a pseudonymised link stays as it is");
        let path = "https://graph.microsoft.com/v1.0/users/jane@contoso.com/onlineMeetings/getAllRecordings(meetingOrganizerUserId='x1')/delta";
        let out = p.link(path);
        assert!(!out.contains("jane") && !out.contains("'x1'"), "{out}");
        assert!(out.contains(&p.token("jane@contoso.com")) && out.contains(&p.token("x1")));
    }
}
