//! Helpers: run the binary, query a lake.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// The repository's `sample-data/`.
pub fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-data")
        .join(rel)
}

/// Runs `cqlake` with `args`.
pub fn cqlake(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(args)
        .output()
        .expect("cqlake runs")
}

/// Runs `cqlake convert <inputs> --lake <lake> --json` and returns the exit code and summary.
pub fn convert(inputs: &[&Path], lake: &Path) -> (i32, serde_json::Value) {
    let mut args: Vec<String> = vec!["convert".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend([
        "--lake".into(),
        lake.display().to_string(),
        "--json".into(),
        "--threads".into(),
        "2".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cqlake(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("summary is JSON ({e}); stderr: {stderr}"));
    (out.status.code().expect("exit code"), summary)
}

/// Runs `cqlake convert sample-data/graph-docs sample-data/logs --format parquet --out <out>`
/// with `extra` arguments.
pub fn export_samples_as_parquet(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "convert".to_string(),
        sample("graph-docs").display().to_string(),
        sample("logs").display().to_string(),
        "--format".into(),
        "parquet".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    cqlake(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Runs `sql` over the lake at `lake` and returns the rows as strings.
pub fn query(lake: &Path, sql: &str) -> Vec<Vec<String>> {
    queries(lake, &[sql]).pop().expect("one result")
}

/// Runs each of `sqls` over one snapshot of the lake at `lake` (registered once) and returns
/// their rows as strings.
pub fn queries(lake: &Path, sqls: &[&str]) -> Vec<Vec<Vec<String>>> {
    queries_at(&lake.into(), sqls)
}

/// [`queries`] of a lake anywhere (a directory or an object store).
pub fn queries_at(lake: &cqlake_lake::LakeLocation, sqls: &[&str]) -> Vec<Vec<Vec<String>>> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        cqlake_lake::register_lake(&ctx, lake)
            .await
            .expect("lake registers");
        let mut out = Vec::with_capacity(sqls.len());
        for sql in sqls {
            let batches = ctx
                .sql(sql)
                .await
                .expect("query plans")
                .collect()
                .await
                .expect("query runs");
            out.push(rows(&batches));
        }
        out
    })
}

/// Batches as rows of display strings (`NULL` for nulls).
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let fmts: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).expect("formatter"))
            .collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

/// Every table of a lake (in schema order), read from one snapshot, rows sorted, as text.
pub fn lake_content(lake: &Path) -> Vec<Vec<Vec<String>>> {
    lake_content_at(&lake.into())
}

/// [`lake_content`] of a lake anywhere (a directory or an object store).
pub fn lake_content_at(lake: &cqlake_lake::LakeLocation) -> Vec<Vec<Vec<String>>> {
    let sqls: Vec<String> = tables().map(|t| format!("SELECT * FROM {t}")).collect();
    let sqls: Vec<&str> = sqls.iter().map(String::as_str).collect();
    let mut all = queries_at(lake, &sqls);
    for rows in &mut all {
        rows.sort();
    }
    all
}

/// The lake's tables, in schema order.
pub fn tables() -> impl Iterator<Item = &'static str> {
    cqlake_schema::TableId::ALL.into_iter().map(|t| t.name())
}

/// Checks `actual` against the snapshot file `tests/snapshots/<name>`; with
/// `CQLAKE_UPDATE_SNAPSHOTS=1` in the environment, writes it instead (review the diff).
pub fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("CQLAKE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a directory")).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (write it with CQLAKE_UPDATE_SNAPSHOTS=1)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (CQLAKE_UPDATE_SNAPSHOTS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Runs `cqlake ARGS --lake LAKE --format csv` (a `sql` query or a `report`, which see the
/// engine's views) and returns its stdout; the command must succeed.
pub fn csv(lake: &Path, args: &[&str]) -> String {
    let lake = lake.display().to_string();
    let mut all = args.to_vec();
    all.extend(["--lake", &lake, "--format", "csv"]);
    succeed(&all, &[])
}

/// Runs `cqlake ARGS` with the environment variables `env` added; the command must succeed.
/// Returns its stdout.
pub fn succeed(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("cqlake runs");
    assert!(
        out.status.success(),
        "cqlake {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// moto's S3 server on a free loopback port (Python's, from `CQLAKE_PYTHON`), with a bucket
/// `lakes`; stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Moto {
    /// Starts it.
    pub fn start() -> Moto {
        use std::io::{Read, Write};
        let python = std::env::var("CQLAKE_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{python} -m moto.server (bash .ci/test.sh installs it): {e}")
            });
        let moto = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        // moto takes unsigned requests: create the bucket with a bare PUT.
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                write!(
                    s,
                    "PUT /lakes HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                return moto;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{python} -m moto.server did not listen (bash .ci/test.sh installs moto)"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Its URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
