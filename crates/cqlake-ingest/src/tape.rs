//! Reading a simd-json tape: the members of an object, the elements of an array, a value's
//! kind for messages, and a subtree written back as JSON text.

use std::fmt::Write as _;

use simd_json::{Node, StaticNode};

/// What a value is, for messages (`a string`, `an object`, …).
pub(crate) fn describe(node: &Node<'_>) -> &'static str {
    match node {
        Node::String(_) => "a string",
        Node::Object { .. } => "an object",
        Node::Array { .. } => "an array",
        Node::Static(StaticNode::Null) => "null",
        Node::Static(StaticNode::Bool(_)) => "a boolean",
        Node::Static(StaticNode::F64(_)) => "a fractional number",
        Node::Static(_) => "an integer",
    }
}

/// Number of tape nodes the value starting at `i` spans.
#[inline]
fn span(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Iterates `(key, value index)` over the object at `i`.
pub(crate) fn members<'a, 't>(
    nodes: &'t [Node<'a>],
    i: usize,
) -> impl Iterator<Item = (&'a str, usize)> + 't {
    let len = match nodes[i] {
        Node::Object { len, .. } => len,
        _ => 0,
    };
    let mut at = i + 1;
    (0..len).map(move |_| {
        let key = match nodes[at] {
            Node::String(s) => s,
            _ => "",
        };
        let v = at + 1;
        at = v + span(nodes, v);
        (key, v)
    })
}

/// Iterates the element indices of the array at `i`.
pub(crate) fn elements<'t>(nodes: &'t [Node<'_>], i: usize) -> impl Iterator<Item = usize> + 't {
    let len = match nodes[i] {
        Node::Array { len, .. } => len,
        _ => 0,
    };
    let mut at = i + 1;
    (0..len).map(move |_| {
        let v = at;
        at += span(nodes, v);
        v
    })
}

/// The string value of key `key` in the object at `i`, if present and a string.
pub fn find_str<'a>(nodes: &[Node<'a>], i: usize, key: &str) -> Option<&'a str> {
    members(nodes, i)
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| match nodes[v] {
            Node::String(s) => Some(s),
            _ => None,
        })
}

/// Writes the value at `i` as compact JSON.
pub fn write_json(nodes: &[Node<'_>], i: usize, out: &mut String) {
    match nodes[i] {
        Node::String(s) => write_json_str(s, out),
        Node::Static(StaticNode::Null) => out.push_str("null"),
        Node::Static(StaticNode::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
        Node::Static(StaticNode::I64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::U64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::F64(f)) => {
            let _ = write!(out, "{f:?}");
        }
        Node::Object { .. } => {
            out.push('{');
            for (n, (k, v)) in members(nodes, i).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json_str(k, out);
                out.push(':');
                write_json(nodes, v, out);
            }
            out.push('}');
        }
        Node::Array { .. } => {
            out.push('[');
            for (n, v) in elements(nodes, i).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json(nodes, v, out);
            }
            out.push(']');
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An OData control annotation (`@odata.context`, `sessions@odata.nextLink`), not data.
/// `@odata.type` is data where a type declares it, and otherwise kept in `extra`.
pub(crate) fn is_annotation(k: &str) -> bool {
    k.contains("@odata.") && k != "@odata.type"
}

/// The value of an integer node, or of a float node holding a whole number.
pub(crate) fn int_of(node: &Node<'_>) -> Option<i64> {
    match *node {
        Node::Static(StaticNode::I64(n)) => Some(n),
        Node::Static(StaticNode::U64(n)) => i64::try_from(n).ok(),
        Node::Static(StaticNode::F64(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        _ => None,
    }
}

/// Whether the value at `v` of key `k`, in the object at `obj`, repeats an earlier occurrence
/// of the same key in that object exactly (same JSON, key order included). Some Graph bodies
/// write a key twice with the same value (`"@odata.type"` of an identity); such a repeat is one
/// value, while a repeat with another value is an error.
pub(crate) fn repeats_earlier(nodes: &[Node<'_>], obj: usize, k: &str, v: usize) -> bool {
    let n = span(nodes, v);
    for (k2, v2) in members(nodes, obj) {
        if v2 >= v {
            return false;
        }
        if k2 == k && span(nodes, v2) == n && nodes[v2..v2 + n] == nodes[v..v + n] {
            return true;
        }
    }
    false
}
