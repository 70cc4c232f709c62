"""Real PostgreSQL clients against `cqlake serve --pg-port`, started here on the sample lake.

psql (Debian's postgresql-client) and Python's psycopg 3 (its own libpq) connect over TCP:
queries by the simple and the extended protocol (prepared, with parameters, text and binary
results) give what `cqlake sql` gives; every column type of the lake makes the round trip; the
start-up queries of Grafana, Metabase, DBeaver and Npgsql 4.0 (Power BI) run; writes are refused
and change nothing; a wrong password, user or database is refused; TLS when configured; a convert
that ends while a connection is open is seen by its next statement.

Run by `tests/pg/run.sh` (which `.ci/test.sh` calls) with CQLAKE_BIN set to the binary.
"""

import datetime
import decimal
import json
import math
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CQLAKE_BIN", str(ROOT / "target" / "debug" / "cqlake"))
STARTUPS = pathlib.Path(__file__).resolve().parent / "startups"
PASSWORD = "pg door test: Tr0ub4dor&3"
TABLES = ["calls", "participants", "sessions", "segments", "media", "streams"]


def run(*args, env=None, check=True):
    out = subprocess.run(
        [BIN, *args], capture_output=True, text=True, env=env, timeout=600
    )
    if check and out.returncode not in (0, 3):
        raise AssertionError(f"cqlake {' '.join(args)}: {out.returncode}\n{out.stderr}")
    return out


def sql_json(lake, query):
    """Rows of `cqlake sql --format json`: the reference a client's rows are checked against."""
    out = run("sql", "--lake", lake, "--format", "json", query)
    return json.loads(out.stdout or "[]")


class Serve:
    """`cqlake serve --pg-port 0`, stopped when the test ends."""

    def __init__(self, lake, *extra, password=PASSWORD, env_extra=None):
        env = dict(os.environ)
        env.pop("CQLAKE_PG_PASSWORD", None)
        env.pop("CQLAKE_SERVE_PASSWORD", None)
        if password is not None:
            env["CQLAKE_PG_PASSWORD"] = password
        env.update(env_extra or {})
        self.log = tempfile.NamedTemporaryFile(prefix="cqlake-serve-", suffix=".log")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--lake", lake, "--port", "0", "--pg-port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        self.banner = []
        self.url = None
        while self.url is None:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"serve ended: {self.proc.wait()} {self.stderr()}")
            self.banner.append(line)
            for word in line.split():
                if word.startswith("postgresql://"):
                    self.url = word
        # postgresql://cqlake@127.0.0.1:PORT/cqlake
        self.port = int(self.url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

    def connect(self, **kw):
        args = dict(
            host="127.0.0.1",
            port=self.port,
            user="cqlake",
            dbname="cqlake",
            password=PASSWORD,
            connect_timeout=10,
        )
        args.update(kw)
        return psycopg.connect(**args)

    def stderr(self):
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def statements(path):
    parts = path.read_text().split("\n-- ---\n")
    return [p.strip() for p in parts[1:] if p.strip()]


def normal(v):
    """A value as comparable text: what psycopg decoded, or what cqlake's JSON holds."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return str(v.total_seconds())
    if isinstance(v, decimal.Decimal):
        return format(v.normalize(), "f") if v == v else "NaN"
    if isinstance(v, float):
        return repr(round(v, 9)) if math.isfinite(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items()}
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    return str(v)


def normal_json(v, pg_type):
    """cqlake's JSON value of a column of PostgreSQL type `pg_type`, as [`normal`] words it."""
    if v is None:
        return None
    if pg_type.startswith("Timestamp") or pg_type.startswith("timestamp"):
        text = v.rstrip("Z")
        if "." in text:
            head, frac = text.split(".")
            text = head + "." + (frac + "000000")[:6]
        else:
            text += ".000000"
        return text.replace(" ", "T")
    if pg_type.startswith("Decimal") or pg_type == "numeric":
        d = decimal.Decimal(str(v))
        return format(d.normalize(), "f")
    if pg_type.startswith("Float") or pg_type in ("double precision", "real"):
        return repr(round(float(v), 9))
    if pg_type.startswith("List"):
        inner = pg_type[pg_type.find("(") + 1:]
        return [normal_json(x, inner) for x in v]
    return normal(v)


class PgDoor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cqlake-pg-")
        cls.lake = os.path.join(cls.tmp, "lake")
        run(
            "convert",
            str(ROOT / "sample-data" / "graph-docs"),
            str(ROOT / "sample-data" / "logs"),
            "--lake",
            cls.lake,
        )
        cls.server = Serve(cls.lake)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def psql(self, *args, password=PASSWORD, dbname="cqlake", user="cqlake"):
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
        return subprocess.run(
            [
                "psql",
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                f"host=127.0.0.1 port={self.server.port} user={user} dbname={dbname}",
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    def test_the_password_is_never_shown(self):
        text = "".join(self.server.banner)
        self.assertIn("PostgreSQL; database cqlake, read-only", text)
        self.assertIn("CQLAKE_PG_PASSWORD", text)
        # Failed logins, refused statements and a connection dropped mid-start-up, then
        # everything the server wrote.
        for password in ("wrong", PASSWORD[:-1], PASSWORD + "x"):
            with self.assertRaises(psycopg.OperationalError) as e:
                self.server.connect(password=password)
            self.assertNotIn(PASSWORD, str(e.exception))
        with self.server.connect() as conn:
            with self.assertRaises(psycopg.Error) as e:
                conn.execute(f"SELECT '{PASSWORD}' FROM no_such_table")
        import socket
        with socket.create_connection(("127.0.0.1", self.server.port)) as s:
            s.sendall(b"\x00\x00\x00\x08\x04\xd2\x16")  # a cut-off start-up
        out = self.psql("-c", "SELECT 1", password="wrong")
        self.assertNotIn(PASSWORD, out.stderr)
        self.assertNotIn(PASSWORD, text + self.server.stderr())

    def test_psql_counts_and_lists_like_cqlake_sql(self):
        for table in TABLES:
            out = self.psql("-c", f"SELECT count(*) FROM {table}")
            self.assertEqual(out.returncode, 0, out.stderr)
            want = sql_json(self.lake, f"SELECT count(*) AS n FROM {table}")[0]["n"]
            self.assertEqual(int(out.stdout.strip()), int(want), table)
        listed = self.psql("-c", r"\dt")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        for table in TABLES:
            self.assertIn(f"|{table}|", listed.stdout)
        described = self.psql("-c", r"\d calls")
        self.assertEqual(described.returncode, 0, described.stderr)
        self.assertIn("start_date_time", described.stdout)
        self.assertIn("timestamp", described.stdout)

    def test_psql_wrong_password_user_and_database_are_refused(self):
        out = self.psql("-c", "SELECT 1", password="not the password")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("password authentication failed", out.stderr)
        out = self.psql("-c", "SELECT 1", user="postgres")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("password authentication failed", out.stderr)
        out = self.psql("-c", "SELECT 1", dbname="postgres")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('database "postgres" does not exist', out.stderr)

    def test_simple_extended_prepared_and_binary_agree_with_cqlake_sql(self):
        query = (
            "SELECT call_id, type, start_date_time, end_date_time FROM calls "
            "WHERE start_date_time >= %s ORDER BY call_id"
        )
        since = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        want = [
            [normal_json(r["call_id"], "text"), r["type"],
             normal_json(r["start_date_time"], "timestamp with time zone"),
             normal_json(r["end_date_time"], "timestamp with time zone")]
            for r in sql_json(
                self.lake,
                "SELECT call_id, type, start_date_time, end_date_time FROM calls "
                "WHERE start_date_time >= TIMESTAMP '2000-01-01T00:00:00Z' ORDER BY call_id",
            )
        ]
        self.assertTrue(want, "the sample lake has calls")
        with self.server.connect() as conn:
            simple = psycopg.ClientCursor(conn)
            simple.execute(query, (since,))
            got = {"simple": simple.fetchall()}
            for name, kw in {
                # psycopg sends a query with parameters by the extended protocol.
                "extended": {},
                "prepared": {"prepare": True},
                "binary": {"binary": True},
                "prepared binary": {"prepare": True, "binary": True},
            }.items():
                cur = conn.cursor()
                for _ in range(2):  # a prepared statement runs twice
                    cur.execute(query, (since,), **kw)
                    got[name] = cur.fetchall()
            for name, rows in got.items():
                self.assertEqual([[normal(v) for v in r] for r in rows], want, name)

    def test_every_column_type_makes_the_round_trip(self):
        with self.server.connect() as conn:
            # Every table: the call tables and the side tables, by the lake's own type.
            types = conn.execute(
                "SELECT c.table_name, c.column_name, c.arrow_type FROM information_schema.columns c "
                "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
                "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
                "ORDER BY c.table_name, c.ordinal_position"
            ).fetchall()
            # One column of each type (the first that holds a value), in each table.
            seen = {}
            for table, column, data_type in types:
                seen.setdefault(data_type, []).append((table, column))
            self.assertGreaterEqual(len(seen), 6, seen.keys())
            checked = set()
            for data_type, columns in sorted(seen.items()):
                for table, column in columns:
                    query = f'SELECT "{column}" AS v FROM {table} WHERE "{column}" IS NOT NULL'
                    want = sql_json(self.lake, query)
                    if not want:
                        continue
                    want = sorted(
                        (json.dumps(normal_json(r["v"], data_type)) for r in want)
                    )
                    for binary in (False, True):
                        rows = conn.cursor(binary=binary).execute(query).fetchall()
                        got = sorted(json.dumps(normal(r[0])) for r in rows)
                        self.assertEqual(
                            got, want, f"{table}.{column} ({data_type}, binary={binary})"
                        )
                    checked.add(data_type)
                    break
            # information_schema names the lake's (Arrow) types.
            for must in ("Timestamp", "Boolean", "Int64", "Float64", "Utf8", "Decimal", "List"):
                self.assertTrue(
                    any(t.startswith(must) for t in checked), f"no {must} column checked: {checked}"
                )

    def test_information_schema_words_types_as_postgresql_and_pg_catalog_agree(self):
        with self.server.connect() as conn:
            words = dict(
                (r[0], (r[1], r[2]))
                for r in conn.execute(
                    "SELECT column_name, data_type, udt_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'calls'"
                ).fetchall()
            )
            self.assertEqual(words["start_date_time"], ("timestamp with time zone", "timestamptz"))
            self.assertEqual(words["call_id"], ("text", "text"))
            self.assertEqual(words["version"], ("bigint", "int8"))
            self.assertIn(("ARRAY", "_text"), words.values())
            catalog = dict(
                conn.execute(
                    "SELECT a.attname, t.typname FROM pg_catalog.pg_attribute a "
                    "JOIN pg_catalog.pg_class c ON a.attrelid = c.oid "
                    "JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid "
                    "JOIN pg_catalog.pg_type t ON a.atttypid = t.oid "
                    "WHERE c.relname = 'calls' AND n.nspname = 'public' AND a.attnum > 0"
                ).fetchall()
            )
            self.assertEqual({k: v[1] for k, v in words.items()}, catalog)
            kinds = dict(
                conn.execute(
                    "SELECT table_name, table_type FROM information_schema.tables "
                    "WHERE table_schema = 'public'"
                ).fetchall()
            )
            self.assertEqual(kinds["streams"], "BASE TABLE")
            self.assertEqual(kinds["stream_quality"], "VIEW")
            self.assertEqual(kinds["report_summary"], "VIEW")

    def test_client_start_ups_run_by_both_protocols(self):
        for path in sorted(STARTUPS.glob("*.sql")):
            for protocol in ("simple", "extended"):
                with self.server.connect() as conn:
                    conn.autocommit = True
                    for statement in statements(path):
                        cur = (
                            psycopg.ClientCursor(conn)
                            if protocol == "simple"
                            else conn.cursor()
                        )
                        try:
                            # Without parameters psycopg would use the simple protocol;
                            # prepare=True sends Parse/Bind/Execute.
                            if protocol == "simple":
                                cur.execute(statement)
                            else:
                                cur.execute(statement, prepare=True)
                            rows = cur.fetchall() if cur.description else []
                        except psycopg.Error as e:
                            self.fail(f"{path.name} ({protocol}): {e}\n{statement}")
                        if "information_schema.tables" in statement and "quote_ident" in statement:
                            # `calls` or `public.calls`: Grafana shows either.
                            names = {r[0].rsplit(".", 1)[-1] for r in rows}
                            self.assertTrue({"calls", "streams"} <= names, rows)
                        if 'GetSchema("Columns")' in statement:
                            types = {r[3]: r[7] for r in rows}
                            self.assertEqual(types["call_id"], "text", path.name)
                            self.assertEqual(types["start_date_time"], "timestamp with time zone")
                            self.assertIn("text[]", types.values(), path.name)
                        if "Load all supported types" in statement:
                            names = {r[1] for r in rows}
                            for t in ("int4", "int8", "text", "bool", "timestamptz", "float8"):
                                self.assertIn(t, names, f"{path.name}: type {t}")

    def test_session_settings_version_and_discard(self):
        with self.server.connect() as conn:
            conn.autocommit = True
            version = conn.execute("SELECT version()").fetchone()[0]
            self.assertTrue(version.startswith("PostgreSQL 16"), version)
            self.assertIn("cqlake", version)
            self.assertEqual(conn.execute("SELECT current_database()").fetchone()[0], "cqlake")
            self.assertEqual(
                conn.execute("SELECT current_schemas(false)").fetchone()[0], ["public"]
            )
            self.assertEqual(conn.info.parameter_status("default_transaction_read_only"), "on")
            conn.execute("SET application_name = 'cqlake-test'")
            self.assertEqual(conn.execute("SHOW application_name").fetchone()[0], "cqlake-test")
            conn.execute("SET statement_timeout = '5s'")
            self.assertEqual(conn.execute("SHOW statement_timeout").fetchone()[0], "5000ms")
            conn.execute("DISCARD ALL", prepare=True)
            self.assertEqual(conn.execute("SHOW statement_timeout").fetchone()[0], "0")
            self.assertNotEqual(conn.execute("SHOW application_name").fetchone()[0], "cqlake-test")
            # The session still works after the reset, on the same data.
            self.assertGreater(conn.execute("SELECT count(*) FROM calls").fetchone()[0], 0)

    def test_reports_and_views_are_there(self):
        with self.server.connect() as conn:
            for name in ("summary", "daily", "networks", "direct_routing"):
                rows = conn.execute(f"SELECT * FROM report_{name}").fetchall()
                want = json.loads(
                    run("report", name.replace("_", "-"), "--lake", self.lake, "--format", "json").stdout
                )
                self.assertEqual(len(rows), len(want), name)
            n = conn.execute("SELECT count(*) FROM stream_quality").fetchone()[0]
            self.assertEqual(
                n, int(sql_json(self.lake, "SELECT count(*) AS n FROM stream_quality")[0]["n"])
            )

    def test_writes_are_refused_and_change_nothing(self):
        def listing():
            return sorted(str(p.relative_to(self.lake)) for p in pathlib.Path(self.lake).rglob("*"))

        before = listing()
        target = os.path.join(self.tmp, "copied.csv")
        with self.server.connect() as conn:
            conn.autocommit = True
            calls = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
            for statement in (
                "DELETE FROM calls",
                "UPDATE calls SET type = 'x'",
                "INSERT INTO calls (call_id) VALUES ('x')",
                "DROP TABLE calls",
                "CREATE TABLE t AS SELECT * FROM calls",
                "CREATE VIEW v AS SELECT 1",
                f"COPY calls TO '{target}'",
                "TRUNCATE calls",
                "SELECT * INTO copied FROM calls",
                "DECLARE c CURSOR FOR SELECT * INTO copied FROM calls",
                "SET datafusion.runtime.temp_directory = '/tmp'",
                "SET \"datafusion.runtime.temp_directory\" = '/tmp'",
                "SET datafusion.catalog.information_schema = true",
            ):
                # Extended (prepared) and simple protocol.
                with self.assertRaises(psycopg.errors.ReadOnlySqlTransaction, msg=statement):
                    conn.cursor().execute(statement, prepare=True)
                with self.assertRaises(psycopg.errors.ReadOnlySqlTransaction, msg=statement):
                    psycopg.ClientCursor(conn).execute(statement)
            with self.assertRaises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM copied")
            self.assertEqual(conn.execute("SELECT count(*) FROM calls").fetchone()[0], calls)
        self.assertFalse(os.path.exists(target))
        self.assertEqual(listing(), before)

    def test_unknown_table_has_its_sqlstate(self):
        with self.server.connect() as conn:
            with self.assertRaises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM no_such_table")

    def test_a_convert_is_seen_by_the_next_statement(self):
        lake = os.path.join(self.tmp, "growing")
        run("convert", str(ROOT / "sample-data" / "graph-docs"), "--lake", lake)
        server = Serve(lake)
        try:
            with server.connect() as conn:
                conn.autocommit = True
                count = "SELECT count(*) FROM calls WHERE call_id <> %s"
                before = conn.execute(count, ("-",), prepare=True).fetchone()[0]
                simple = psycopg.ClientCursor(conn).execute("SELECT count(*) FROM calls")
                self.assertEqual(simple.fetchone()[0], before)
                run("convert", str(ROOT / "sample-data" / "call-flows"), "--lake", lake)
                want = int(sql_json(lake, "SELECT count(*) AS n FROM calls")[0]["n"])
                self.assertGreater(want, before)
                # The simple protocol, and the statement prepared before the convert.
                simple = psycopg.ClientCursor(conn).execute("SELECT count(*) FROM calls")
                self.assertEqual(simple.fetchone()[0], want)
                self.assertEqual(conn.execute(count, ("-",), prepare=True).fetchone()[0], want)
        finally:
            server.stop()


class PgDoorOptions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cqlake-pg-opt-")
        cls.lake = os.path.join(cls.tmp, "lake")
        run("convert", str(ROOT / "sample-data" / "graph-docs"), "--lake", cls.lake)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def certificate(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        if not os.path.exists(key):
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                check=True, capture_output=True,
            )
        return cert, key

    def test_tls_is_required_when_configured(self):
        cert, key = self.certificate()
        server = Serve(self.lake, "--pg-tls-cert", cert, "--pg-tls-key", key)
        try:
            self.assertIn("sslmode=require", server.url)
            with server.connect(sslmode="require") as conn:
                self.assertEqual(conn.info.pgconn.ssl_in_use, True)
                self.assertGreater(conn.execute("SELECT count(*) FROM calls").fetchone()[0], 0)
            with self.assertRaises(psycopg.OperationalError) as refused:
                server.connect(sslmode="disable")
            self.assertIn("only encrypted connections", str(refused.exception))
        finally:
            server.stop()

    def test_bad_tls_files_are_an_error_at_start(self):
        cert, key = self.certificate()
        bad = os.path.join(self.tmp, "empty.pem")
        open(bad, "w").close()
        for flags, named in (((bad, key), "--pg-tls-cert"), ((cert, bad), "--pg-tls-key")):
            out = subprocess.run(
                [BIN, "serve", "--lake", self.lake, "--port", "0", "--pg-port", "0",
                 "--pg-tls-cert", flags[0], "--pg-tls-key", flags[1]],
                capture_output=True, text=True, timeout=120,
            )
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(named, out.stderr)
            self.assertIn("empty.pem", out.stderr)

    def test_beyond_loopback_needs_the_password(self):
        env = dict(os.environ, CQLAKE_SERVE_PASSWORD="web only")
        env.pop("CQLAKE_PG_PASSWORD", None)
        out = subprocess.run(
            [BIN, "serve", "--lake", self.lake, "--bind", "0.0.0.0", "--port", "0",
             "--pg-port", "0"],
            capture_output=True, text=True, env=env, timeout=120,
        )
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("CQLAKE_PG_PASSWORD", out.stderr)
        self.assertNotIn("web only", out.stderr + out.stdout)

    def test_without_a_password_any_user_gets_in_on_loopback(self):
        server = Serve(self.lake, password=None)
        try:
            self.assertIn("no password", "".join(server.banner))
            with server.connect(user="grafana", password="") as conn:
                self.assertGreater(conn.execute("SELECT count(*) FROM calls").fetchone()[0], 0)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
