//! Numbering the occurrences of a session id that Graph repeats within one call's sessions
//! pages (once per identity involved: an auto attendant, then a call queue, on consecutive
//! slices of one session).
//!
//! The items of one page may be flattened by different workers, so the number is given where
//! the input is read, in order: by the reader, from each item's top-level `id` found without
//! parsing. The count runs on across the pages of one `@odata.nextLink` chain (a page that
//! follows a page of the same call that said more follow) and starts again with any other page.
//! Within one expanded call record the flattener numbers the occurrences itself.

use std::collections::HashMap;

use crate::decode::PageKind;

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct SessionOccurrences {
    /// The call of the current chain of sessions pages.
    call: Option<String>,
    /// The last page of the chain said more follow.
    continued: bool,
    seen: HashMap<Vec<u8>, u32>,
}

impl SessionOccurrences {
    /// A page of kind `page` starts.
    pub fn page_start(&mut self, page: &PageKind) {
        let call = match page {
            PageKind::Sessions { call_id } => Some(call_id),
            _ => None,
        };
        if !(self.continued && call.is_some() && self.call.as_ref() == call) {
            self.seen.clear();
        }
        self.call = call.cloned();
        self.continued = false;
    }

    /// The occurrence number of the item `bytes` of the current page: 0 for the first item of the
    /// chain with its id (and for every item of a page that is not a sessions page).
    pub fn item(&mut self, bytes: &[u8]) -> u32 {
        if self.call.is_none() {
            return 0;
        }
        let Some(id) = top_level_string(bytes, b"id") else {
            return 0;
        };
        let n = self.seen.entry(id.to_vec()).or_insert(0);
        *n += 1;
        *n - 1
    }

    /// The current page ended with the keys `bytes` (its `PageEnd` document).
    pub fn page_end(&mut self, bytes: &[u8]) {
        self.continued =
            self.call.is_some() && memchr::memmem::find(bytes, b"\"@odata.nextLink\"").is_some();
    }
}

/// The raw bytes (escapes left as they are) of the string value of key `key` of the JSON object
/// `bytes`, looked up among its own keys only (not those of nested objects), without parsing.
/// `None` when the key is absent, its value is not a string, or the object is cut short.
pub fn top_level_string<'a>(bytes: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return None;
                }
            }
            b',' => expect_key = depth == 1,
            b'"' => {
                let end = string_end(bytes, i + 1)?;
                let text = &bytes[i + 1..end];
                i = end + 1;
                if depth == 1 && expect_key {
                    expect_key = false;
                    if text == key {
                        let mut j = skip_ws(bytes, i);
                        if bytes.get(j) != Some(&b':') {
                            return None;
                        }
                        j = skip_ws(bytes, j + 1);
                        if bytes.get(j) != Some(&b'"') {
                            return None;
                        }
                        let end = string_end(bytes, j + 1)?;
                        return Some(&bytes[j + 1..end]);
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote that closes the string whose text starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        if bytes[at] == b'\\' {
            i = at + 2;
        } else {
            return Some(at);
        }
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_id_is_found_not_a_nested_one() {
        let s = br#"{"caller": {"identity": {"user": {"id": "u1"}}}, "ids": ["id"], "id": "s\"1", "segments": [{"id": "g"}]}"#;
        assert_eq!(top_level_string(s, b"id"), Some(&br#"s\"1"#[..]));
        assert_eq!(top_level_string(br#"{"a": {"id": "x"}}"#, b"id"), None);
        assert_eq!(top_level_string(br#"{"id": 5}"#, b"id"), None);
        assert_eq!(
            top_level_string(br#"{"x": "id", "id" : "y"}"#, b"id"),
            Some(&b"y"[..])
        );
        assert_eq!(top_level_string(br#"{"id": "unterminated"#, b"id"), None);
        assert_eq!(top_level_string(b"", b"id"), None);
    }

    fn sessions(call: &str) -> PageKind {
        PageKind::Sessions {
            call_id: call.into(),
        }
    }

    #[test]
    fn occurrences_count_on_through_a_next_link_chain_only() {
        let mut o = SessionOccurrences::default();
        let a = br#"{"id": "a"}"#;
        let b = br#"{"id": "b"}"#;
        o.page_start(&sessions("c1"));
        assert_eq!([o.item(a), o.item(b), o.item(a), o.item(a)], [0, 0, 1, 2]);
        o.page_end(br#"{"@odata.context": "x", "value": [], "@odata.nextLink": "n"}"#);
        // The next page of the chain goes on counting.
        o.page_start(&sessions("c1"));
        assert_eq!(o.item(a), 3);
        o.page_end(br#"{"value": []}"#);
        // The same pages again (a second copy of the export) start again.
        o.page_start(&sessions("c1"));
        assert_eq!(o.item(a), 0);
        o.page_end(br#"{"value": [], "@odata.nextLink": "n"}"#);
        // A next link to another call's page does not carry the count over.
        o.page_start(&sessions("c2"));
        assert_eq!(o.item(a), 0);
        // Pages of call records are not numbered.
        o.page_start(&PageKind::CallRecords);
        assert_eq!([o.item(a), o.item(a)], [0, 0]);
    }
}
