//! `cqlake scheduler`, two `cqlake executor`s and `--cluster`, as separate processes on
//! 127.0.0.1: the reports equal the local ones, the work goes through the executors, and with
//! the executors gone a query does not answer.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Moto, convert, cqlake, sample};

/// A child process, killed when dropped.
struct Process(Child);

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

/// Starts `cqlake scheduler --port 0` and returns it with the address it printed.
fn scheduler() -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(["scheduler", "--port", "0"])
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

/// Starts `cqlake executor` for the scheduler at `url`, with its work in `work`.
fn executor(url: &str, work: &Path) -> Process {
    let (port, grpc) = (free_port().to_string(), free_port().to_string());
    let child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(["executor", "--scheduler", url, "--port", &port])
        .args(["--grpc-port", &grpc, "--tasks", "2", "--work-dir"])
        .arg(work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cqlake executor starts");
    Process(child)
}

/// Files under `dir`, at any depth.
fn files_under(dir: &Path) -> usize {
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
    let (_scheduler, url) = scheduler();
    let works = [dir.path().join("work-1"), dir.path().join("work-2")];
    let executors: Vec<Process> = works.iter().map(|w| executor(&url, w)).collect();
    for report in ["summary", "networks", "daily"] {
        let local = cqlake(&["report", report, "--lake", &lake, "--format", "csv"]);
        assert!(
            local.status.success(),
            "{}",
            String::from_utf8_lossy(&local.stderr)
        );
        let remote = cqlake(&[
            "report",
            report,
            "--lake",
            &lake,
            "--format",
            "csv",
            "--cluster",
            &url,
        ]);
        assert!(
            remote.status.success(),
            "{report} on the cluster: {}",
            String::from_utf8_lossy(&remote.stderr)
        );
        let lines = |o: &[u8]| {
            let mut l: Vec<String> = String::from_utf8_lossy(o)
                .lines()
                .map(str::to_string)
                .collect();
            l.sort();
            l
        };
        assert!(local.stdout.len() > 100, "{report} has rows");
        assert_eq!(lines(&remote.stdout), lines(&local.stdout), "{report}");
    }
    // The executors wrote the stages' shuffle files: the work ran there.
    let written: usize = works.iter().map(|w| files_under(w)).sum();
    assert!(
        written > 0,
        "no shuffle file in the executors' work directories"
    );
    // Without executors the same query does not answer (it fails, or waits for one).
    drop(executors);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args([
            "report",
            "summary",
            "--lake",
            &lake,
            "--format",
            "csv",
            "--cluster",
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "summary answered with no executor");
            break;
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cqlake"))
            .args(args)
            .envs(env)
            .output()
            .unwrap()
    };
    let graph_docs = sample("graph-docs").display().to_string();
    let out = run(&["convert", &graph_docs, "--lake", url, "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The executor has them as options (the secret from a file), not in its environment.
    let (_scheduler, cluster) = scheduler();
    let (port, grpc) = (free_port().to_string(), free_port().to_string());
    let work = dir.path().join("work");
    let _executor = Process(
        Command::new(env!("CARGO_BIN_EXE_cqlake"))
            .args(["executor", "--scheduler", &cluster, "--port", &port])
            .args(["--grpc-port", &grpc, "--tasks", "2", "--work-dir"])
            .arg(&work)
            .args(["--storage-option", &format!("aws_endpoint={endpoint}")])
            .args(["--storage-option", "aws_allow_http=true"])
            .args(["--storage-option", "aws_access_key_id=cqlake-test"])
            .args(["--storage-option", "aws_region=us-east-1"])
            .arg("--storage-option")
            .arg(format!("aws_secret_access_key=@{}", secret.display()))
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_ACCESS_KEY_ID")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let expected = cqlake(&[
        "report",
        "networks",
        "--lake",
        &local.display().to_string(),
        "--format",
        "csv",
    ]);
    assert!(expected.status.success());
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
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let mut a: Vec<_> = String::from_utf8_lossy(&expected.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let mut b: Vec<_> = String::from_utf8_lossy(&got.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    a.sort();
    b.sort();
    assert!(a.len() > 1, "networks has rows");
    assert_eq!(b, a);
}
