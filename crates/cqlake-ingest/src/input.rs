//! Inputs: command-line arguments expanded into files (directories walked, glob patterns
//! matched), and files opened with a decompressor chosen by their first bytes.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One input: a file, standard input, or a stream handed over in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Bytes from the process itself (`cqlake pull`'s Graph answers), read once.
    Stream(Stream),
}

/// A reader handed to the pipeline as an [`Input`], with the name its rejects carry. It can be
/// opened once; clones share it.
#[derive(Clone)]
pub struct Stream {
    name: std::sync::Arc<str>,
    reader: std::sync::Arc<std::sync::Mutex<Option<Box<dyn Read + Send>>>>,
}

impl Stream {
    /// A stream called `name` (in messages and rejects) reading from `reader`.
    pub fn new(name: impl Into<std::sync::Arc<str>>, reader: Box<dyn Read + Send>) -> Self {
        Stream {
            name: name.into(),
            reader: std::sync::Arc::new(std::sync::Mutex::new(Some(reader))),
        }
    }

    fn take(&self) -> io::Result<Box<dyn Read + Send>> {
        self.reader
            .lock()
            .map_err(|_| io::Error::other("the stream's lock is poisoned"))?
            .take()
            .ok_or_else(|| io::Error::other(format!("{} was read already", self.name)))
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({})", self.name)
    }
}

impl PartialEq for Stream {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.reader, &other.reader)
    }
}

impl Eq for Stream {}

impl Input {
    /// The name used in messages and rejection records.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".into(),
            Input::Stream(s) => s.name.to_string(),
        }
    }
}

/// Expands command-line inputs: files as they are, directories recursively (sorted, hidden
/// files skipped), glob patterns, and `-` for standard input.
pub fn expand_inputs(args: &[String]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let p = Path::new(a);
        if p.is_dir() {
            let mut files = Vec::new();
            walk_dir(p, &mut files).map_err(|e| Error::Io {
                path: a.clone(),
                source: e,
            })?;
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if p.exists() {
            out.push(Input::File(p.to_path_buf()));
        } else if a.contains(['*', '?', '[']) {
            let paths = glob_paths(a)?;
            if paths.is_empty() {
                return Err(Error::NoSuchInput(a.clone()));
            }
            for path in paths {
                if path.is_dir() {
                    let mut files = Vec::new();
                    walk_dir(&path, &mut files).map_err(|e| Error::Io {
                        path: path.display().to_string(),
                        source: e,
                    })?;
                    files.sort();
                    out.extend(files.into_iter().map(Input::File));
                } else {
                    out.push(Input::File(path));
                }
            }
        } else {
            return Err(Error::NoSuchInput(a.clone()));
        }
    }
    Ok(out)
}

fn glob_paths(pattern: &str) -> Result<Vec<PathBuf>> {
    // A small glob: `*`, `?` and `[...]` within one path component, `**` for any depth.
    let bad = |m: &str| Error::BadPattern {
        pattern: pattern.into(),
        message: m.into(),
    };
    for part in pattern.split('/') {
        if let Some(e) = class_error(part.as_bytes()) {
            return Err(bad(e));
        }
    }
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let base = if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    };
    let mut found = Vec::new();
    glob_walk(&base, &parts, &mut found);
    found.sort();
    found.dedup();
    if !absolute {
        found = found
            .into_iter()
            .map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p))
            .collect();
    }
    Ok(found)
}

fn glob_walk(dir: &Path, parts: &[&str], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(dir.to_path_buf());
        return;
    };
    if *first == "**" {
        glob_walk(dir, rest, out);
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                    glob_walk(&e.path(), parts, out);
                }
            }
        }
        return;
    }
    if !first.contains(['*', '?', '[']) {
        let p = dir.join(first);
        if p.exists() {
            glob_walk(&p, rest, out);
        }
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if wildcard(first.as_bytes(), name.as_bytes())
                && (!name.starts_with('.') || first.starts_with('.'))
            {
                glob_walk(&e.path(), rest, out);
            }
        }
    }
}

/// `*`, `?` and `[...]` matching (a class: characters and `a-z` ranges, `!` or `^` first to
/// negate; `]` first is a member).
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(b'?'), Some(_)) => wildcard(&p[1..], &s[1..]),
        (Some(b'['), Some(&c)) => match class(&p[1..], c) {
            Some((true, rest)) => wildcard(rest, &s[1..]),
            Some((false, _)) => false,
            None => p[0] == c && wildcard(&p[1..], &s[1..]),
        },
        (Some(a), Some(b)) if a == b => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Whether `c` is in the class that `p` starts with (after its `[`), and the pattern after the
/// class; `None` when the class is not closed.
fn class(p: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut i) = match p.first() {
        Some(b'!' | b'^') => (true, 1),
        _ => (false, 0),
    };
    let mut hit = false;
    let mut first = true;
    loop {
        let &x = p.get(i)?;
        if x == b']' && !first {
            return Some((hit != negate, &p[i + 1..]));
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|y| *y != b']') {
            hit |= (x..=p[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= x == c;
            i += 1;
        }
    }
}

/// Why a path component's character classes are malformed, if they are.
fn class_error(part: &[u8]) -> Option<&'static str> {
    let mut rest = part;
    while let Some(at) = rest.iter().position(|b| *b == b'[') {
        match class(&rest[at + 1..], 0) {
            Some((_, after)) => rest = after,
            None => return Some("a [ character class is not closed with ]"),
        }
    }
    None
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Opens an input and wraps it in a decompressor when its first bytes are gzip or zstd magic.
pub fn open(input: &Input) -> io::Result<Box<dyn Read + Send>> {
    Ok(open_detect(input)?.0)
}

/// How an input is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// [`open`], also saying which decompressor it chose.
fn open_detect(input: &Input) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let raw: Box<dyn Read + Send> = match input {
        Input::File(p) => Box::new(File::open(p)?),
        Input::Stdin => Box::new(io::stdin()),
        Input::Stream(s) => s.take()?,
    };
    let mut r = BufReader::with_capacity(1 << 20, raw);
    let head = io::BufRead::fill_buf(&mut r)?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        (
            Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Gzip,
        )
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        (
            Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Compression::Zstd,
        )
    } else {
        (Box::new(r), Compression::None)
    })
}

/// Damage found by decompressing a whole input before converting it.
#[derive(Debug)]
pub(crate) struct Damage {
    /// Decompressed bytes that came out before the decompressor gave up.
    pub(crate) offset: u64,
    /// 1-based line of that point.
    pub(crate) line: u64,
    /// The decompressor's error.
    pub(crate) error: io::Error,
}

/// Decompresses a compressed file whole, discarding the output, and reports damage other than
/// being cut short. A gzip member's checksum covers all of it, so a flipped bit can decode into
/// plausible JSON that is only found wrong at the member's end: records must not be converted
/// from it before that is known. (A file cut short decodes exactly up to the cut: its prefix is
/// sound and converts; the cut is reported when the conversion reaches it.)
pub(crate) fn check_compressed(input: &Input) -> io::Result<Option<Damage>> {
    if !matches!(input, Input::File(_)) {
        return Ok(None); // standard input cannot be read twice
    }
    let (mut r, compression) = open_detect(input)?;
    if compression == Compression::None {
        return Ok(None);
    }
    let mut buf = vec![0u8; 1 << 20];
    let (mut offset, mut line) = (0u64, 1u64);
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                offset += n as u64;
                line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => {
                return Ok(Some(Damage {
                    offset,
                    line,
                    error,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_classes_pick_files() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["day-01.json", "day-02.json", "day-10.json"] {
            std::fs::write(dir.path().join(n), "{}").unwrap();
        }
        let pattern = format!("{}/day-0[1-2].json", dir.path().display());
        let got = expand_inputs(&[pattern]).unwrap();
        assert_eq!(
            got,
            vec![
                Input::File(dir.path().join("day-01.json")),
                Input::File(dir.path().join("day-02.json"))
            ]
        );
        let bad = format!("{}/day-[0.json", dir.path().display());
        assert!(matches!(
            expand_inputs(&[bad]),
            Err(Error::BadPattern { .. })
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard(b"day-[0-2][0-9].json", b"day-17.json"));
        assert!(!wildcard(b"day-[0-2][0-9].json", b"day-37.json"));
        assert!(wildcard(b"[!x]*.json", b"a.json"));
        assert!(!wildcard(b"[!x]*.json", b"x.json"));
        assert!(wildcard(b"[]a].json", b"].json"));
        assert!(wildcard(b"*.json", b"a.json"));
        assert_eq!(
            class_error(b"day-[0-9"),
            Some("a [ character class is not closed with ]")
        );
        assert_eq!(class_error(b"day-[0-9].json"), None);
        assert!(wildcard(b"day-??.ndjson.gz", b"day-01.ndjson.gz"));
        assert!(!wildcard(b"*.json", b"a.json.gz"));
    }
}
