//! Crash safety (issue 5, item 2): a convert killed with `SIGKILL` at any point leaves a lake
//! whose tables open, hold nothing doubled and nothing lost, and from which re-running the same
//! convert ends with exactly the content of a run that was never interrupted.
//!
//! Kill points are of two kinds: the writer's crash points (every commit of every table, before
//! and after, every data file closed, every table restored when recovering: see
//! `cqlake_lake::crash`), chosen spread over the run's trace; and kills from outside at times
//! spread over the run's length.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Instant;

use cqlake_schema::{ColumnRole, Key, TableId};

use crate::common::queries;

/// Two exports of one generated corpus (documents in order, split 60/40): the second holds newer
/// versions of calls of the first and follow-up pages of its calls, so its convert replaces rows
/// (the group path) as well as appending new calls.
struct Exports {
    _dir: tempfile::TempDir,
    first: PathBuf,
    second: PathBuf,
}

fn exports() -> Exports {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    let out = crate::common::cqlake(&[
        "gen",
        "--seed",
        "11",
        "--calls",
        "24",
        "--container",
        "expanded",
        "--revisions",
        "0.5",
        "--sessions-per-page",
        "4",
        "--participants-per-page",
        "5",
        "--output",
        &format!("{}/", all.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&all)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::create_dir(&first).unwrap();
    std::fs::create_dir(&second).unwrap();
    let cut = files.len() * 6 / 10;
    for (i, f) in files.iter().enumerate() {
        let to = if i < cut { &first } else { &second };
        std::fs::rename(f, to.join(f.file_name().unwrap())).unwrap();
    }
    Exports {
        _dir: dir,
        first,
        second,
    }
}

/// `cqlake convert` with small commits, so that a run makes many groups.
fn convert_cmd(input: &Path, lake: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cqlake"));
    c.args([
        "convert",
        &input.display().to_string(),
        "--lake",
        &lake.display().to_string(),
        "--threads",
        "2",
        "-q",
    ])
    .env("CQLAKE_COMMIT_BYTES", "400000")
    .env("CQLAKE_GROUP_BYTES", "200000")
    .env_remove(cqlake_lake::crash::ENV);
    c
}

fn converts(input: &Path, lake: &Path) {
    let out = convert_cmd(input, lake).output().unwrap();
    assert!(
        out.status.success(),
        "convert {}: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

use crate::common::lake_content as content;

/// What one snapshot of a lake shows about its integrity.
struct Snapshot {
    /// Calls and their versions.
    versions: BTreeMap<String, i64>,
    /// Rows whose key (every key column but the partition date) is held twice.
    doubled: Vec<Vec<String>>,
    /// Rows of `streams` whose call context disagrees with their call's row in `calls`: a
    /// reader that saw `streams` and `calls` at different points of a run would find some.
    torn: u64,
}

fn snapshot(lake: &Path) -> Snapshot {
    let doubled: Vec<String> = TableId::ALL
        .into_iter()
        .map(|t| {
            let keys: Vec<&str> = t
                .table()
                .columns
                .iter()
                .filter(|c| matches!(c.role, ColumnRole::Key(k) if k != Key::CallStartDate))
                .map(|c| c.name.as_str())
                .collect();
            let keys = keys.join(", ");
            format!(
                "SELECT '{}', count(*) FROM {} GROUP BY {keys} HAVING count(*) > 1",
                t.name(),
                t.name()
            )
        })
        .collect();
    let sqls = [
        "SELECT call_id, version FROM calls".to_string(),
        doubled.join(" UNION ALL "),
        "SELECT count(*) FROM streams s JOIN calls c ON s.call_id = c.call_id \
         WHERE s.call_version IS DISTINCT FROM c.version"
            .to_string(),
    ];
    let sqls: Vec<&str> = sqls.iter().map(String::as_str).collect();
    let [versions, doubled, torn]: [Vec<Vec<String>>; 3] =
        queries(lake, &sqls).try_into().expect("three results");
    Snapshot {
        versions: versions
            .into_iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap()))
            .collect(),
        doubled,
        torn: torn[0][0].parse().unwrap(),
    }
}

fn versions(lake: &Path) -> BTreeMap<String, i64> {
    snapshot(lake).versions
}

/// After a kill: every table opens, nothing is doubled, every call of the state before is
/// still there at its version or a newer one, and no call is newer than the complete run makes
/// it.
fn check_consistent(
    what: &str,
    lake: &Path,
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) {
    let snap = snapshot(lake);
    assert!(
        snap.doubled.is_empty(),
        "{what}: rows doubled: {:?}",
        snap.doubled
    );
    assert_eq!(snap.torn, 0, "{what}: streams and calls disagree");
    for (id, v) in before {
        let got = snap.versions.get(id);
        assert!(
            got.is_some_and(|g| g >= v),
            "{what}: call {id} at version {v} before is now {got:?}"
        );
    }
    for (id, v) in &snap.versions {
        let full = after.get(id);
        assert!(
            full.is_some_and(|f| v <= f),
            "{what}: call {id} at version {v}, the complete run has {full:?}"
        );
    }
}

/// The crash points a run passes, by name, from a traced run (on a copy of `lake`).
fn trace(input: &Path, lake: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("lake");
    copy_dir(lake, &copy);
    let out = convert_cmd(input, &copy)
        .env(cqlake_lake::crash::ENV, "trace")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("cqlake crash point "))
        .map(|l| l.split_once(": ").unwrap().1.to_string())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    if !from.exists() {
        return;
    }
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn killed(status: ExitStatus) -> bool {
    status.signal() == Some(9)
}

/// `n` of the points `0..len`, evenly spread, always with the first and last.
fn spread(len: usize, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).map(|i| i * (len - 1) / (n - 1).max(1)).collect();
    v.dedup();
    v
}

#[test]
fn a_convert_killed_anywhere_leaves_a_lake_that_a_rerun_completes_exactly() {
    let ex = exports();
    let work = tempfile::tempdir().unwrap();
    // The uninterrupted runs: the first export into an empty lake, then the second.
    let reference = work.path().join("reference");
    let empty = work.path().join("empty");
    converts(&ex.first, &reference);
    let after_first = work.path().join("after-first");
    copy_dir(&reference, &after_first);
    let v_first = versions(&reference);
    let c_first = content(&reference);
    let started = Instant::now();
    converts(&ex.second, &reference);
    let second_takes = started.elapsed();
    let v_both = versions(&reference);
    let c_both = content(&reference);
    assert!(
        v_both
            .iter()
            .any(|(id, v)| v_first.get(id).is_some_and(|f| f < v)),
        "the second export replaces calls of the first"
    );

    let mut survived = 0;
    let mut commit_points = 0;
    // (export, lake before it, state before, complete state after)
    let phases = [
        (
            "first",
            &ex.first,
            &empty,
            BTreeMap::new(),
            &v_first,
            &c_first,
        ),
        (
            "second",
            &ex.second,
            &after_first,
            v_first.clone(),
            &v_both,
            &c_both,
        ),
    ];
    for (phase, input, base, before, after, complete) in &phases {
        let points = trace(input, base);
        assert!(points.len() >= 10, "{phase}: {points:?}");
        let commits = points
            .iter()
            .filter(|p| p.contains("committing") || p.contains("replacing"))
            .count();
        assert!(commits >= 6, "{phase}: many commits: {points:?}");
        // The last twentieth left out: a run may pass a few points fewer than the traced one
        // (workers group batches in any order), and a point it never reaches is no kill.
        for at in spread(points.len() - points.len() / 20, 10) {
            let what = format!(
                "{phase} export, killed at point {} of {} ({})",
                at + 1,
                points.len(),
                points[at]
            );
            let dir = tempfile::tempdir().unwrap();
            let lake = dir.path().join("lake");
            copy_dir(base, &lake);
            let out = convert_cmd(input, &lake)
                .env(cqlake_lake::crash::ENV, (at + 1).to_string())
                .output()
                .unwrap();
            if !killed(out.status) {
                // The run passed fewer points than the traced one (workers group batches in
                // any order) and finished: not a kill, but its lake must be right too.
                assert!(out.status.success(), "{what}: {:?}", out.status);
                assert!(
                    content(&lake) == **complete,
                    "{what}: finished, but differs"
                );
                continue;
            }
            if points[at].contains("committing") || points[at].contains("replacing") {
                commit_points += 1;
            }
            check_consistent(&what, &lake, before, after);
            converts(input, &lake);
            assert!(
                content(&lake) == **complete,
                "{what}: the re-run differs from an uninterrupted run"
            );
            survived += 1;
        }
    }

    // Kills from outside, spread over the second run's length, then a kill during the recovery
    // of the first such lake.
    for i in 1..=5u32 {
        let what = format!("second export, killed after {i}/8 of its run");
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        copy_dir(&after_first, &lake);
        let mut child = convert_cmd(&ex.second, &lake).spawn().unwrap();
        std::thread::sleep(second_takes * i / 8);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if killed(status) {
            survived += 1;
        } else {
            // It finished before the kill: still a point the lake must be right at.
            assert!(status.success(), "{what}: {status:?}");
        }
        check_consistent(&what, &lake, &v_first, &v_both);
        // Recovery itself killed (if this lake needs one), then the re-run.
        let out = convert_cmd(&ex.second, &lake)
            .env(cqlake_lake::crash::ENV, "1")
            .output()
            .unwrap();
        if killed(out.status) {
            check_consistent(
                &format!("{what}, then at the next run's first point"),
                &lake,
                &v_first,
                &v_both,
            );
        }
        converts(&ex.second, &lake);
        assert!(
            content(&lake) == c_both,
            "{what}: the re-run differs from an uninterrupted run"
        );
    }
    assert!(survived >= 20, "{survived} kill points");
    assert!(commit_points >= 4, "{commit_points} kills during commits");
}

#[test]
fn two_converts_at_once_land_both_exports_once_or_one_says_retry() {
    let ex = exports();
    let work = tempfile::tempdir().unwrap();
    let reference = work.path().join("reference");
    converts(&ex.first, &reference);
    converts(&ex.second, &reference);
    let v_both = versions(&reference);
    check_consistent("the reference", &reference, &v_both, &v_both);

    // Without --wait: whichever comes second is refused, cleanly, and says to retry.
    let lake = work.path().join("race");
    let mut a = convert_cmd(&ex.first, &lake).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let b = convert_cmd(&ex.second, &lake).output().unwrap();
    let a = a.wait().unwrap();
    let (a_ok, b_ok) = (a.success(), b.status.success());
    assert!(a_ok || b_ok, "one of them lands");
    if !b_ok {
        assert_eq!(b.status.code(), Some(4), "busy: exit code 4");
        let err = String::from_utf8_lossy(&b.stderr);
        assert!(err.contains("retry"), "{err}");
        converts(&ex.second, &lake);
    }
    if !a_ok {
        assert_eq!(a.code(), Some(4));
        converts(&ex.first, &lake);
    }
    assert_eq!(
        versions(&lake),
        v_both,
        "both exports, each call once at its newest version"
    );
    check_consistent("after the race", &lake, &v_both, &v_both);

    // With --wait: the second waits for the first and both land.
    let lake = work.path().join("wait");
    let mut a = convert_cmd(&ex.first, &lake).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let b = convert_cmd(&ex.second, &lake)
        .args(["--wait", "600"])
        .output()
        .unwrap();
    assert!(a.wait().unwrap().success());
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(versions(&lake), v_both);
    check_consistent("after waiting", &lake, &v_both, &v_both);
}

#[test]
fn a_query_during_a_convert_sees_whole_groups_only() {
    let ex = exports();
    let work = tempfile::tempdir().unwrap();
    let lake = work.path().join("lake");
    converts(&ex.first, &lake);
    let v_first = versions(&lake);
    let mut child = convert_cmd(&ex.second, &lake).spawn().unwrap();
    let mut seen: Vec<BTreeMap<String, i64>> = Vec::new();
    loop {
        let done = child.try_wait().unwrap();
        // One snapshot per check: taken while groups are being committed.
        let snap = snapshot(&lake);
        let now = snap.versions;
        assert!(
            snap.doubled.is_empty(),
            "snapshot {}: rows doubled",
            seen.len()
        );
        assert_eq!(
            snap.torn,
            0,
            "snapshot {}: streams and calls disagree",
            seen.len()
        );
        for (id, v) in seen.last().unwrap_or(&v_first) {
            assert!(
                now.get(id).is_some_and(|n| n >= v),
                "snapshot {}: call {id} went back from version {v}",
                seen.len()
            );
        }
        seen.push(now);
        if let Some(status) = done {
            assert!(status.success());
            break;
        }
    }
    let distinct = seen.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        seen.len() >= 3,
        "{} snapshots taken during the run ({distinct} changes)",
        seen.len()
    );
}

#[test]
#[allow(
    clippy::assertions_on_constants,
    reason = "the constant is the feature switch; a test run without it must fail, not skip"
)]
fn crash_points_are_compiled_into_the_tested_binary() {
    assert!(
        cqlake_lake::crash::ENABLED,
        "the crash tests need the lake's crash points: run the tests with \
         `--features cqlake-cli/crash-points` (bash .ci/test.sh does)"
    );
}
