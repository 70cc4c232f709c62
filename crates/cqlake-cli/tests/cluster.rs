//! `cqlake scheduler`, two `cqlake executor`s and `--cluster`, as separate processes on
//! 127.0.0.1: the reports equal the local ones, the work goes through the executors, and with
//! the executors gone a query does not answer; with the cluster's keys every link is TLS and a
//! client without them is refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Moto, convert, cqlake, csv, sample};

/// A child process, killed when dropped.
pub(crate) struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `cqlake scheduler --port 0 EXTRA…` and returns it with the address it printed.
pub(crate) fn scheduler(extra: &[&str]) -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(["scheduler", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cqlake scheduler starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("df://"))
        .unwrap_or_else(|| panic!("no df:// URL in {line:?}"))
        .to_string();
    (Process(child), url)
}

/// Starts `cqlake executor` for the scheduler at `url` (2 tasks, free ports, its work in
/// `work`), with more arguments or environment from `setup`.
pub(crate) fn executor(url: &str, work: &Path, setup: impl FnOnce(&mut Command)) -> Process {
    let (port, grpc) = (free_port().to_string(), free_port().to_string());
    let mut command = Command::new(env!("CARGO_BIN_EXE_cqlake"));
    command
        .args(["executor", "--scheduler", url, "--port", &port])
        .args(["--grpc-port", &grpc, "--tasks", "2", "--work-dir"])
        .arg(work)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    setup(&mut command);
    Process(command.spawn().expect("cqlake executor starts"))
}

/// The lines of a CSV output, sorted (a cluster returns rows in its own order).
fn sorted_lines(out: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Asserts `cqlake report REPORT` with `cluster_args` prints the local report's rows.
fn assert_same_report(lake: &str, report: &str, cluster_args: &[&str]) {
    let run = |extra: &[&str]| {
        let mut args = vec!["report", report];
        args.extend_from_slice(extra);
        sorted_lines(csv(Path::new(lake), &args).as_bytes())
    };
    let local = run(&[]);
    assert!(local.len() > 1, "{report} has rows");
    assert_eq!(run(cluster_args), local, "{report} on the cluster");
}

/// Runs cqlake with `args`; its exit status, or `None` if it had not finished after `limit`
/// (it is then killed).
fn status_within(args: &[&str], limit: Duration) -> Option<std::process::ExitStatus> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Files under `dir`, at any depth.
pub(crate) fn files_under(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

#[test]
fn reports_on_a_cluster_of_processes_equal_the_local_ones_and_need_its_executors() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (code, _) = convert(&[&sample("graph-docs"), &sample("generated")], &lake);
    assert_eq!(code, 0);
    let lake = lake.display().to_string();
    let (_scheduler, url) = scheduler(&[]);
    let works = [dir.path().join("work-1"), dir.path().join("work-2")];
    let executors: Vec<Process> = works.iter().map(|w| executor(&url, w, |_| ())).collect();
    for report in ["summary", "networks", "daily"] {
        assert_same_report(&lake, report, &["--cluster", &url]);
    }
    // The executors wrote the stages' shuffle files: the work ran there.
    let written: usize = works.iter().map(|w| files_under(w)).sum();
    assert!(
        written > 0,
        "no shuffle file in the executors' work directories"
    );
    // Without executors the same query does not answer (it fails, or waits for one).
    drop(executors);
    let status = status_within(
        &["report", "summary", "--lake", &lake, "--cluster", &url],
        Duration::from_secs(15),
    );
    assert!(
        status.is_none_or(|s| !s.success()),
        "summary answered with no executor"
    );
}

#[test]
fn executors_read_a_lake_on_s3_with_their_own_credentials() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3-secret-of-the-cluster-test").unwrap();
    let local = dir.path().join("lake");
    let (code, _) = convert(&[&sample("graph-docs")], &local);
    assert_eq!(code, 0);
    let url = "s3://lakes/cluster";
    // The client (convert, then the report's planning) has the credentials in its environment.
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "cqlake-test"),
        ("AWS_SECRET_ACCESS_KEY", "s3-secret-of-the-cluster-test"),
        ("AWS_REGION", "us-east-1"),
    ];
    // Runs cqlake with those credentials; it must succeed. Its standard output.
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
            .args(args)
            .envs(env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let graph_docs = sample("graph-docs").display().to_string();
    run(&["convert", &graph_docs, "--lake", url, "--quiet"]);
    // The executor has them as options (the secret from a file), not in its environment.
    let (_scheduler, cluster) = scheduler(&[]);
    let _executor = executor(&cluster, &dir.path().join("work"), |c| {
        c.args(["--storage-option", &format!("aws_endpoint={endpoint}")])
            .args(["--storage-option", "aws_allow_http=true"])
            .args(["--storage-option", "aws_access_key_id=cqlake-test"])
            .args(["--storage-option", "aws_region=us-east-1"])
            .arg("--storage-option")
            .arg(format!("aws_secret_access_key=@{}", secret.display()))
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_ACCESS_KEY_ID");
    });
    let expected = sorted_lines(csv(&local, &["report", "networks"]).as_bytes());
    assert!(expected.len() > 1, "networks has rows");
    let got = run(&[
        "report",
        "networks",
        "--lake",
        url,
        "--format",
        "csv",
        "--cluster",
        &cluster,
    ]);
    assert_eq!(sorted_lines(&got), expected);
}

#[test]
fn a_cluster_with_keys_answers_only_clients_that_have_them() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let keys_arg = keys.display().to_string();
    let made = cqlake(&["cluster-keys", "--out", &keys_arg]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    for name in ["ca.pem", "cluster.pem", "cluster.key"] {
        assert!(keys.join(name).is_file(), "{name} written");
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("cluster.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is its owner's only");
    }
    let key_text = std::fs::read_to_string(keys.join("cluster.key")).unwrap();
    assert!(!String::from_utf8_lossy(&made.stderr).contains(key_text.trim()));
    // Keys already there are never replaced.
    let again = cqlake(&["cluster-keys", "--out", &keys_arg]);
    assert!(!again.status.success(), "the keys were replaced");
    assert_eq!(
        std::fs::read_to_string(keys.join("cluster.key")).unwrap(),
        key_text
    );

    let lake = dir.path().join("lake");
    let (code, _) = convert(&[&sample("graph-docs"), &sample("generated")], &lake);
    assert_eq!(code, 0);
    let lake = lake.display().to_string();
    let (_scheduler, url) = scheduler(&["--cluster-keys", &keys_arg]);
    let _executors: Vec<Process> = (1..=2)
        .map(|i| {
            executor(&url, &dir.path().join(format!("work-{i}")), |c| {
                c.args(["--cluster-keys", &keys_arg]);
            })
        })
        .collect();
    assert_same_report(
        &lake,
        "summary",
        &["--cluster", &url, "--cluster-keys", &keys_arg],
    );

    // Without the keys, or with another cluster's, the client is refused: it fails, it does
    // not wait.
    let other = dir.path().join("other-keys");
    assert!(
        cqlake(&["cluster-keys", "--out", &other.display().to_string()])
            .status
            .success()
    );
    let other = other.display().to_string();
    for extra in [&[][..], &["--cluster-keys", other.as_str()][..]] {
        let mut args = vec!["report", "summary", "--lake", &lake, "--cluster", &url];
        args.extend_from_slice(extra);
        let status = status_within(&args, Duration::from_secs(60));
        assert!(
            status.is_some_and(|s| !s.success()),
            "a client with {extra:?} was not refused: {status:?}"
        );
    }

    // Listening on another address than loopback needs the keys.
    for command in [
        &["scheduler", "--bind", "0.0.0.0", "--port", "0"][..],
        &["executor", "--bind", "0.0.0.0", "--scheduler", &url][..],
    ] {
        let out = cqlake(command);
        assert!(!out.status.success(), "{command:?} listened without keys");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--cluster-keys"), "{command:?}: {err}");
    }
}
