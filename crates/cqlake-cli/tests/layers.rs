//! The crates depend on each other in one direction: the binary on the libraries, the libraries
//! on the schema, and no library on a sibling it does not need (the lake writer takes batches,
//! never JSON; the parser and the generator know nothing of storage or SQL).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// For each workspace crate, the workspace crates it may depend on (normal and build
/// dependencies; tests may use more). A new crate must be placed here.
const ALLOWED: &[(&str, &[&str])] = &[
    ("cqlake-schema", &[]),
    ("cqlake-ingest", &["cqlake-schema"]),
    ("cqlake-gen", &["cqlake-schema"]),
    ("cqlake-lake", &["cqlake-schema"]),
    ("cqlake-query", &["cqlake-schema", "cqlake-lake"]),
    ("cqlake-pull", &["cqlake-schema"]),
    ("cqlake-server", &["cqlake-schema", "cqlake-query"]),
    ("cqlake-pg", &["cqlake-query"]),
    ("cqlake-privacy", &["cqlake-schema"]),
    ("cqlake-cluster", &["cqlake-query", "cqlake-lake"]),
    (
        "cqlake-cli",
        &[
            "cqlake-schema",
            "cqlake-ingest",
            "cqlake-gen",
            "cqlake-lake",
            "cqlake-query",
            "cqlake-pull",
            "cqlake-server",
            "cqlake-pg",
            "cqlake-privacy",
            "cqlake-cluster",
        ],
    ),
    (
        "cqlake-benches",
        &[
            "cqlake-schema",
            "cqlake-ingest",
            "cqlake-gen",
            "cqlake-lake",
            "cqlake-query",
        ],
    ),
];

/// `crate → workspace crates it depends on` (not as a dev-dependency), from `cargo metadata`.
fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .filter_map(|d| d["name"].as_str())
                .filter(|d| names.contains(d))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn crates_depend_on_each_other_in_one_direction() {
    let actual = workspace_dependencies();
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(c, deps)| (*c, deps.iter().copied().collect()))
        .collect();
    assert!(actual.contains_key("cqlake-lake"), "{actual:?}");
    let mut wrong = Vec::new();
    for (krate, deps) in &actual {
        let Some(ok) = allowed.get(krate.as_str()) else {
            wrong.push(format!(
                "{krate}: not placed in the layers (add it to ALLOWED)"
            ));
            continue;
        };
        for d in deps.iter().filter(|d| !ok.contains(d.as_str())) {
            wrong.push(format!("{krate} depends on {d}, which it may not"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
