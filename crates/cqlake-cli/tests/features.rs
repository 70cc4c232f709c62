//! The README's two commands share one build of the dependencies: every package that
//! `cargo run -p cqlake-cli` builds is built with the same features by `cargo test --workspace`
//! (whose dev-dependencies would otherwise turn on more features of serde, getrandom or md-5 and
//! so rebuild DataFusion and deltalake, half an hour on two cores).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// `package version → feature sets` of `cargo tree` with the given arguments (a package built
/// both for the host, as a build dependency, and for the target may have two).
fn features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["-f", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut out_map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in String::from_utf8(out.stdout).expect("UTF-8").lines() {
        if let Some((package, features)) = l.trim_end_matches(" (*)").split_once('|') {
            out_map
                .entry(package.trim().to_string())
                .or_default()
                .insert(features.trim().to_string());
        }
    }
    out_map
}

#[test]
fn cli_and_test_builds_share_dependency_features() {
    let run = features(&["-p", "cqlake-cli", "-e", "normal,build"]);
    let test = features(&["--workspace", "-e", "normal,build,dev"]);
    assert!(run.len() > 100, "the binary's tree is read: {run:?}");
    let differ: Vec<String> = run
        .iter()
        .filter(|(package, f)| test.get(*package) != Some(*f))
        .map(|(package, f)| format!("{package}: run {f:?}, test {:?}", test.get(package)))
        .collect();
    assert!(
        differ.is_empty(),
        "packages built twice (pin the test build's features in cqlake-cli's Cargo.toml):\n{}",
        differ.join("\n")
    );
}
