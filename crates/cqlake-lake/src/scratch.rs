//! Local scratch directories: where a run on a lake in an object store keeps the files it
//! writes before they are uploaded (data files, spill files, rejects), never in the bucket.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A directory `$TMPDIR/cqlake-<purpose>-<pid>-<nanos>`, removed with its files when dropped.
/// Making one first removes the directories of the same purpose that processes no longer
/// running left behind (a killed run's).
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new directory for `purpose` (a word: `upload`, `work`).
    pub fn new(purpose: &str) -> Result<Scratch> {
        let tmp = std::env::temp_dir();
        remove_stale(&tmp, purpose);
        let dir = tmp.join(format!(
            "cqlake-{purpose}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        Ok(Scratch(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes `cqlake-<purpose>-<pid>-*` under `tmp` whose process is gone.
fn remove_stale(tmp: &Path, purpose: &str) {
    let prefix = format!("cqlake-{purpose}-");
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !running(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether process `pid` is running (on Linux; elsewhere every process is taken to be).
fn running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_directory_goes_when_dropped_and_a_dead_process_one_at_the_next() {
        let s = Scratch::new("unittest").unwrap();
        let dir = s.path().to_path_buf();
        std::fs::write(dir.join("f"), b"x").unwrap();
        drop(s);
        assert!(!dir.exists());
        // A directory left by a process that is gone (pid 0 never runs a user process; a
        // pid beyond the kernel's maximum never runs at all).
        let left = std::env::temp_dir().join("cqlake-unittest-4194305-1");
        std::fs::create_dir_all(&left).unwrap();
        let mine = std::env::temp_dir().join(format!("cqlake-unittest-{}-1", std::process::id()));
        std::fs::create_dir_all(&mine).unwrap();
        let s = Scratch::new("unittest").unwrap();
        if cfg!(target_os = "linux") {
            assert!(!left.exists());
        }
        assert!(mine.exists(), "a running process's directory stays");
        std::fs::remove_dir_all(&mine).unwrap();
        drop(s);
    }
}
