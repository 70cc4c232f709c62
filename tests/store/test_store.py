"""The lake on object storage, against real stand-ins started here on loopback.

S3 is moto's server (`python -m moto.server`), Azure Blob is Azurite (`azurite-blob`). For each:
convert, a re-convert that doubles nothing, version upserts, a run killed at crash points and a
re-run converging, sql and report equal to the same runs into a local directory, the lake read
back by Python's deltalake with the same storage options, rejects kept in the lake, one writer
at a time by a lease object (a live lease refuses a second writer with exit 4, an expired one is
taken over), and no secret in anything cqlake prints. Google Cloud Storage has no stand-in that
object_store's client works with: its URLs and options are checked by the unit tests only.

Run by `tests/store/run.sh` (which `.ci/test.sh` calls) with CQLAKE_BIN set to the binary.
"""

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
BIN = os.environ.get("CQLAKE_BIN", str(ROOT / "target" / "debug" / "cqlake"))
PYTHON = os.environ.get("CQLAKE_PYTHON", "python3")
TABLES = ["calls", "participants", "sessions", "segments", "media", "streams"]
SECRET = "store-test-secret-Zq9xW2"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} ended: {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port}")


class Moto:
    """moto's S3 server with one bucket; the environment cqlake reads it with."""

    name = "s3"

    def __init__(self):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=self.log,
        )
        wait_for(self.port, self.proc, "moto")
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "cqlake-test",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": "us-east-1",
        }
        self.s3().create_bucket(Bucket="lakes")

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="cqlake-test",
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )

    def url(self, path):
        return f"s3://lakes/{path}"

    def python_options(self):
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "cqlake-test",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": "us-east-1",
        }

    def keys(self, prefix):
        out = []
        for page in self.s3().get_paginator("list_objects_v2").paginate(
            Bucket="lakes", Prefix=prefix
        ):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def put(self, key, body):
        self.s3().put_object(Bucket="lakes", Key=key, Body=body)

    def get(self, key):
        return self.s3().get_object(Bucket="lakes", Key=key)["Body"].read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Azurite:
    """Azurite's Blob service with one container; the environment cqlake reads it with."""

    name = "azure"

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory(prefix="azurite-")
        self.log = tempfile.NamedTemporaryFile(prefix="azurite-", suffix=".log")
        exe = HERE / "node_modules" / ".bin" / "azurite-blob"
        self.proc = subprocess.Popen(
            [
                str(exe),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--location",
                self.dir.name,
                "--skipApiVersionCheck",
            ],
            stdout=self.log,
            stderr=self.log,
        )
        wait_for(self.port, self.proc, "azurite")
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AZURE_STORAGE_USE_EMULATOR": "true",
            "AZURITE_BLOB_STORAGE_URL": self.endpoint,
            "AZURE_STORAGE_ACCOUNT_NAME": "devstoreaccount1",
            "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY,
        }
        self.container().create_container()

    def container(self):
        from azure.storage.blob import BlobServiceClient

        conn = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint}/devstoreaccount1;"
        )
        return BlobServiceClient.from_connection_string(conn).get_container_client("lakes")

    def url(self, path):
        return f"az://lakes/{path}"

    def python_options(self):
        return {
            "AZURE_STORAGE_USE_EMULATOR": "true",
            "AZURE_STORAGE_ACCOUNT_NAME": "devstoreaccount1",
            "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY,
        }

    def keys(self, prefix):
        return [b.name for b in self.container().list_blobs(name_starts_with=prefix)]

    def put(self, key, body):
        self.container().upload_blob(key, body, overwrite=True)

    def get(self, key):
        return self.container().download_blob(key).readall()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def clean_env(extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "AZURE_", "AZURITE_", "GOOGLE_", "CQLAKE_"))
    }
    env.update(extra)
    return env


class StoreCase:
    """The tests every store runs; `store_class` is Moto or Azurite."""

    store_class = None

    @classmethod
    def setUpClass(cls):
        cls.store = cls.store_class()
        cls.tmp = tempfile.TemporaryDirectory(prefix=f"cqlake-store-{cls.store.name}-")
        cls.exports = cls.make_exports(pathlib.Path(cls.tmp.name))
        cls.references = {}
        # cqlake's scratch directories (TMPDIR), to see that none is left behind.
        cls.scratch = pathlib.Path(cls.tmp.name) / "scratch"
        cls.scratch.mkdir()

    @classmethod
    def tearDownClass(cls):
        cls.store.stop()
        cls.tmp.cleanup()

    @classmethod
    def make_exports(cls, tmp):
        """A generated export with revisions, split in two runs (later versions in the second)."""
        every = tmp / "all"
        out = subprocess.run(
            [
                BIN, "gen", "--seed", "11", "--calls", "24", "--container", "expanded",
                "--revisions", "0.5", "--sessions-per-page", "4",
                "--participants-per-page", "5", "--output", f"{every}/",
            ],
            capture_output=True, text=True, env=clean_env({}),
        )
        assert out.returncode == 0, out.stderr
        files = sorted(every.iterdir())
        first, second = tmp / "first", tmp / "second"
        first.mkdir()
        second.mkdir()
        cut = len(files) * 6 // 10
        for i, f in enumerate(files):
            f.rename((first if i < cut else second) / f.name)
        return first, second

    def cqlake(self, *args, env_extra=None, check=True, crash_at=None):
        env = clean_env(self.store.env)
        env["TMPDIR"] = str(self.scratch)
        env.update(env_extra or {})
        if crash_at is not None:
            env["CQLAKE_CRASH_AT"] = str(crash_at)
        out = subprocess.run(
            [BIN, *args], capture_output=True, text=True, env=env, timeout=900
        )
        text = out.stdout + out.stderr
        self.assertNotIn(SECRET, text, "a secret was printed")
        if check and out.returncode not in (0, 3):
            raise AssertionError(f"cqlake {' '.join(args)}: {out.returncode}\n{out.stderr}")
        return out

    def convert(self, inputs, lake, *extra, **kw):
        return self.cqlake(
            "convert", *[str(i) for i in inputs], "--lake", lake, "--threads", "2", "-q",
            *extra, **kw,
        )

    def content(self, lake):
        """Every table's rows (every column, the lines sorted), and the summary report."""
        parts = {}
        for t in TABLES:
            out = self.cqlake("sql", "--lake", lake, "--format", "csv", f"SELECT * FROM {t}")
            lines = out.stdout.splitlines()
            parts[t] = lines[:1] + sorted(lines[1:])
        parts["report"] = self.cqlake(
            "report", "summary", "--lake", lake, "--format", "csv"
        ).stdout
        return parts

    def local(self, runs):
        """The same runs into a local directory: the reference (made once per sequence)."""
        key = tuple(tuple(str(i) for i in inputs) for inputs in runs)
        if key not in self.references:
            lake = tempfile.mkdtemp(prefix="cqlake-local-", dir=self.tmp.name)
            for inputs in runs:
                self.convert(inputs, lake)
            self.references[key] = (lake, self.content(lake))
        return self.references[key][0]

    def assertSameLake(self, remote, local):
        b = next(c for lake, c in self.references.values() if lake == local)
        a = self.content(remote)
        for k in b:
            self.assertEqual(a[k], b[k], f"{k} differs from the local lake's")
        self.assertGreater(len(b["calls"]), 10)

    def test_convert_reconvert_and_version_upserts_equal_the_local_lake(self):
        first, second = self.exports
        lake = self.store.url("upserts")
        self.convert([first], lake)
        self.assertSameLake(lake, self.local([[first]]))
        # Again: nothing doubled.
        self.convert([first], lake)
        self.assertSameLake(lake, self.local([[first]]))
        # The later versions replace the earlier ones.
        self.convert([second], lake)
        self.assertSameLake(lake, self.local([[first], [second]]))
        keys = self.store.keys("upserts/")
        self.assertTrue(any(k.startswith("upserts/calls/_delta_log/") for k in keys), keys)
        self.assertTrue(any(k.endswith(".parquet") for k in keys), keys)
        self.assertNotIn("upserts/_cqlake.lock", keys, "the lease is released")
        self.assertEqual(os.listdir(self.scratch), [], "no scratch left behind")
        # Nothing local was written in place of the bucket.
        self.assertFalse(pathlib.Path("s3:").exists() or pathlib.Path("az:").exists())

    def test_python_deltalake_reads_the_lake_with_the_same_options(self):
        first, _ = self.exports
        lake = self.store.url("python")
        self.convert([first], lake)
        script = (
            "import json, sys, deltalake\n"
            "opts = json.loads(sys.argv[2])\n"
            "out = {}\n"
            "for t in sys.argv[3:]:\n"
            "    dt = deltalake.DeltaTable(sys.argv[1] + t, storage_options=opts)\n"
            "    out[t] = dt.to_pyarrow_table().num_rows\n"
            "print(json.dumps(out), flush=True)\n"
            # deltalake's threads abort the interpreter at exit (a known pyarrow/tokio issue).
            "import os; os._exit(0)\n"
        )
        # object_store takes Azurite's address from the environment only.
        env = clean_env({k: v for k, v in self.store.env.items() if k.startswith("AZURITE_")})
        out = subprocess.run(
            [PYTHON, "-c", script, lake + "/", json.dumps(self.store.python_options()), *TABLES],
            capture_output=True, text=True, env=env, timeout=600,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        counts = json.loads(out.stdout)
        for t in TABLES:
            n = self.cqlake("sql", "--lake", lake, "--format", "csv", f"SELECT count(*) FROM {t}")
            self.assertEqual(counts[t], int(n.stdout.split()[1]), t)
        self.assertGreater(counts["streams"], 0)

    def test_a_run_killed_at_crash_points_is_completed_by_the_next(self):
        first, second = self.exports
        reference = self.local([[first], [second]])
        points = self.crash_points(first, second)
        self.assertGreater(len(points), 3)
        kills = 0
        for i, n in enumerate(points):
            lake = self.store.url(f"crash{i}")
            self.convert([first], lake)
            killed = self.convert(
                [second], lake, check=False, crash_at=n,
                env_extra={
                    "CQLAKE_COMMIT_BYTES": "400000",
                    "CQLAKE_GROUP_BYTES": "200000",
                    "CQLAKE_LEASE_TTL": "5s",
                },
            )
            # A run may pass a few points fewer than the traced one (workers group batches in
            # any order): one that finishes is no kill, but must still converge.
            self.assertIn(killed.returncode, (-signal.SIGKILL, 0), f"point {n}: {killed.stderr}")
            kills += killed.returncode == -signal.SIGKILL
            # The killed run's lease lapses (after 5 s here, CQLAKE_LEASE_TTL); the next
            # writer waits for it.
            self.convert([second], lake, "--wait", "1m")
            self.assertSameLake(lake, reference)
            # The killed run's scratch directories went with the next run.
            self.assertEqual(os.listdir(self.scratch), [])
        self.assertGreaterEqual(kills, len(points) - 1)

    def crash_points(self, first, second):
        """A spread of the crash points a second run passes (by the trace of one)."""
        lake = self.store.url("trace")
        self.convert([first], lake)
        out = self.convert(
            [second], lake,
            env_extra={
                "CQLAKE_CRASH_AT": "trace",
                "CQLAKE_COMMIT_BYTES": "400000",
                "CQLAKE_GROUP_BYTES": "200000",
            },
        )
        points = [l for l in out.stderr.splitlines() if l.startswith("cqlake crash point ")]
        n = len(points)
        # The first, and four spread over the rest but its last twentieth (which a run may
        # not reach).
        top = n - n // 20
        picks = sorted({1, max(1, top // 4), max(1, top // 2), max(1, 3 * top // 4), top})
        return picks if n else []

    def test_a_live_lease_refuses_a_second_writer_and_an_expired_one_is_taken_over(self):
        first, _ = self.exports
        lake = self.store.url("lease")
        self.convert([first], lake)
        now_ms = int(time.time() * 1000)
        live = {"owner": "other", "host": "elsewhere", "pid": 1, "expires_ms": now_ms + 600_000}
        self.store.put("lease/_cqlake.lock", json.dumps(live).encode())
        busy = self.convert([first], lake, check=False)
        self.assertEqual(busy.returncode, 4, busy.stderr)
        self.assertIn("another cqlake process", busy.stderr)
        # The other writer's lease is still there, untouched.
        self.assertEqual(json.loads(self.store.get("lease/_cqlake.lock"))["owner"], "other")
        expired = dict(live, expires_ms=now_ms - 1000)
        self.store.put("lease/_cqlake.lock", json.dumps(expired).encode())
        self.convert([first], lake)
        self.assertNotIn("lease/_cqlake.lock", self.store.keys("lease/"))
        self.assertSameLake(lake, self.local([[first]]))

    def test_two_converts_at_once_land_both_once_or_the_second_says_retry(self):
        first, second = self.exports
        lake = self.store.url("twice")
        env = clean_env(self.store.env)
        procs = [
            subprocess.Popen(
                [BIN, "convert", str(d), "--lake", lake, "--threads", "1", "-q"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )
            for d in (first, second)
        ]
        results = []
        for p in procs:
            _, err = p.communicate(timeout=900)
            results.append((p.returncode, err))
            self.assertNotIn(SECRET, err)
        codes = sorted(r[0] for r in results)
        self.assertIn(codes, ([0, 0], [0, 4]), results)
        runs = [[first], [second]]
        if codes == [0, 4]:
            loser = [d for (code, _), d in zip(results, (first, second)) if code == 4][0]
            self.convert([loser], lake)
            runs = [[d] for d in (first, second) if d != loser] + [[loser]]
        # Version upserts make the order of the two runs irrelevant.
        self.assertSameLake(lake, self.local(runs))

    def test_rejects_are_kept_in_the_lake(self):
        bad = pathlib.Path(self.tmp.name) / "bad.ndjson"
        bad.write_text('{"id": "not a call record", "version": "x"\n{"broken": \n')
        first, _ = self.exports
        lake = self.store.url("rejects")
        out = self.convert([first, bad], lake, check=False)
        self.assertEqual(out.returncode, 3, out.stderr)
        keys = [k for k in self.store.keys("rejects/_rejects/") if k.endswith(".ndjson")]
        self.assertEqual(len(keys), 1, keys)
        lines = self.store.get(keys[0]).decode().splitlines()
        self.assertGreaterEqual(len(lines), 1)
        self.assertTrue(all(json.loads(l)["source"].endswith("bad.ndjson") for l in lines))
        # A run that stops on an error releases its lease: the next one need not wait.
        strict = self.convert([bad], lake, "--strict", check=False)
        self.assertEqual(strict.returncode, 2, strict.stderr)
        self.assertNotIn("rejects/_cqlake.lock", self.store.keys("rejects/"))
        self.assertEqual(self.convert([first], lake).returncode, 0)

    def test_optimize_and_vacuum_keep_the_rows_and_free_the_files(self):
        first, second = self.exports
        lake = self.store.url("compact")
        small = {"CQLAKE_COMMIT_BYTES": "400000", "CQLAKE_GROUP_BYTES": "200000"}
        self.convert([first], lake, env_extra=small)
        self.convert([second], lake, env_extra=small)
        reference = self.local([[first], [second]])

        def parquet():
            return [k for k in self.store.keys("compact/") if k.endswith(".parquet")]

        before = parquet()
        out = self.cqlake("optimize", "--lake", lake)
        rewritten = int(out.stdout.split("optimize: ", 1)[1].split()[0])
        self.assertGreater(rewritten, 0, out.stdout)
        self.assertSameLake(lake, reference)
        # The replaced files stay for readers of older snapshots, until vacuum.
        self.assertGreater(len(parquet()), len(before))
        out = self.cqlake("vacuum", "--lake", lake, "--retain-hours", "0")
        deleted = int(out.stdout.split("vacuum: ", 1)[1].split()[0])
        after = parquet()
        self.assertGreater(deleted, 0, out.stdout)
        self.assertLess(len(after), len(before))
        self.assertSameLake(lake, reference)

    def test_pseudonymise_forget_and_purge_on_the_store(self):
        first, _ = self.exports
        lake = self.store.url("privacy")
        key = {"CQLAKE_PSEUDONYM_KEY": "a pseudonym key for the store tests, 40 bytes"}
        self.convert([first], lake, "--pseudonymise", env_extra=key)
        self.assertIn("privacy/_cqlake_pseudonyms.json", self.store.keys("privacy/"))
        refused = self.convert([first], lake, check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("is pseudonymised", refused.stderr)

        def sql(q):
            return self.cqlake("sql", "--lake", lake, "--format", "csv", q).stdout.splitlines()[1:]

        ids = sql("SELECT DISTINCT caller_identity_user_id FROM segments "
                  "WHERE caller_identity_user_id IS NOT NULL")
        self.assertTrue(ids and all(i.startswith("psn_") for i in ids), ids)
        person = sql("SELECT caller_identity_user_id FROM segments WHERE caller_identity_user_id "
                     "IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[0]
        streams = sql("SELECT count(*) FROM streams")
        # forget by the token alone (no key needed), then vacuum with its default retention.
        s = json.loads(self.cqlake("forget", "--lake", lake, "--user", person, "--json").stdout)
        self.assertGreater(s["rows"]["segments"], 0, s)
        self.assertEqual(sql(f"SELECT count(*) FROM segments WHERE caller_identity_user_id = "
                             f"'{person}' OR callee_identity_user_id = '{person}'"), ["0"])
        self.assertEqual(sql("SELECT count(*) FROM streams"), streams)
        erased = json.loads(self.store.get("privacy/_cqlake_erased.json"))["files"]
        self.assertTrue(erased)
        self.cqlake("vacuum", "--lake", lake)
        keys = set(self.store.keys("privacy/"))
        self.assertFalse([f for f in erased if f"privacy/{f}" in keys], "erased files left")
        self.assertEqual(json.loads(self.store.get("privacy/_cqlake_erased.json"))["files"], [])
        # purge: the calls before the middle date go from every table.
        dates = sql("SELECT DISTINCT CAST(call_start_date AS VARCHAR) FROM calls ORDER BY 1")
        self.assertGreaterEqual(len(dates), 2, dates)
        cut = dates[len(dates) // 2]
        self.cqlake("purge", "--lake", lake, "--before", cut)
        for t in TABLES:
            self.assertEqual(sql(f"SELECT count(*) FROM {t} WHERE call_start_date < DATE '{cut}'"),
                             ["0"], t)
        self.assertNotEqual(sql(f"SELECT count(*) FROM calls WHERE call_start_date >= DATE '{cut}'"),
                            ["0"])
        self.assertEqual(os.listdir(self.scratch), [], "no scratch left behind")

    def test_serve_reads_the_bucket_and_sees_a_new_convert(self):
        first, second = self.exports
        lake = self.store.url("serve")
        self.convert([first], lake)
        env = clean_env(self.store.env)
        proc = subprocess.Popen(
            [BIN, "serve", "--lake", lake, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            banner = proc.stdout.readline()
            self.assertIn(lake, banner)
            url = next(w for w in banner.split() if w.startswith("http://"))

            def api():
                with urllib.request.urlopen(url.rstrip("/") + "/api/reports/summary") as r:
                    return json.loads(r.read())

            def report():
                out = self.cqlake("report", "summary", "--lake", lake, "--format", "json")
                return json.loads(out.stdout)

            self.assertEqual(api(), report())
            before = api()
            self.convert([second], lake)
            self.assertEqual(api(), report())
            self.assertNotEqual(api(), before)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=60)
            self.assertNotIn(SECRET, err)

    def test_secrets_on_the_command_line_are_refused(self):
        out = self.cqlake(
            "sql", "--lake", self.store.url("nothing"),
            "--storage-option", f"aws_secret_access_key={SECRET}",
            "SELECT 1", check=False,
        )
        self.assertEqual(out.returncode, 2)
        self.assertIn("process list", out.stderr)


class S3(StoreCase, unittest.TestCase):
    store_class = Moto


class Azure(StoreCase, unittest.TestCase):
    store_class = Azurite


class Urls(unittest.TestCase):
    """Lake URLs that cannot be used are refused before anything is written."""

    def run_in(self, cwd, *args):
        return subprocess.run(
            [BIN, *args], capture_output=True, text=True, cwd=cwd, env=clean_env({}), timeout=120
        )

    def test_an_unknown_scheme_is_an_error_and_writes_nothing(self):
        with tempfile.TemporaryDirectory() as cwd:
            sample = ROOT / "sample-data" / "graph-docs"
            out = self.run_in(cwd, "convert", str(sample), "--lake", "hdfs://nn/lake")
            self.assertEqual(out.returncode, 2, out.stderr)
            self.assertIn("unknown storage scheme hdfs://", out.stderr)
            self.assertEqual(os.listdir(cwd), [])

    def test_a_gcs_url_is_understood_without_writing_locally(self):
        with tempfile.TemporaryDirectory() as cwd:
            out = self.run_in(
                cwd, "sql", "--lake", "gs://no-such-bucket-cqlake/lake",
                "--storage-option", "google_service_account_path=/nonexistent.json",
                "SELECT 1",
            )
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("gs://no-such-bucket-cqlake/lake", out.stderr)
            self.assertEqual(os.listdir(cwd), [])


if __name__ == "__main__":
    unittest.main()
