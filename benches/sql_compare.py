"""Runs cqlake's built-in reports and DuckDB on the same lake, the same SQL, in one run.

    python benches/sql_compare.py --lake L --cqlake BIN [--reports summary,networks,FILE.sql]
        [--runs 3] [--threads 2] [--json FILE] [--markdown FILE]

A report is a built-in name (its file in `sql/reports/`) or a path to a `.sql` file, such as
the queries in `benches/queries/`; cqlake runs it with `cqlake report FILE.sql`.

DuckDB reads the Parquet files the Delta log lists (through Python's deltalake), as Hive
partitions, and gets the views of `sql/views/` and the classic rule of `sql/rules/` translated
to its dialect (`* EXCEPT` is `* EXCLUDE`, an empty list literal); the report SQL itself is the
same file for both, unchanged. Each measurement is a fresh process (wall seconds and peak
RSS from /usr/bin/time), repeated `--runs` times; the results of both tools must agree row by
row (floats to 1e-9 relative) or the run fails.

`python benches/sql_compare.py duckdb-run ...` is the DuckDB side of one measurement.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = ["calls", "sessions", "streams"]
# The views in dependency order: (view name, file).
VIEWS = [
    ("stream_kind", "sql/views/stream_kind.sql"),
    ("stream_audio", "sql/rules/cqd-classic.sql"),
    ("stream_quality", "sql/views/stream_quality.sql"),
    ("stream_sides", "sql/views/stream_sides.sql"),
]


# cqlake's `media_kind(label)` function (see sql/views/stream_kind.sql) as a DuckDB macro: the
# same mapping as a CASE, which DuckDB evaluates without per-branch copies. `if(c, a, b)` is
# built into DuckDB with the semantics of cqlake's.
MEDIA_KIND_MACRO = """
CREATE MACRO media_kind(label) AS CASE
    WHEN label = 'applicationsharing-video' THEN 'vbss'
    WHEN label LIKE 'applicationsharing%' THEN 'appsharing'
    WHEN label LIKE '%audio%' THEN 'audio'
    WHEN label LIKE '%video%' THEN 'video'
    WHEN label = 'data' THEN 'data'
    ELSE 'other'
END
"""


def body(path):
    """A .sql file without its header comments."""
    with open(os.path.join(ROOT, path)) as f:
        lines = f.read().splitlines()
    return "\n".join(l for l in lines if not l.startswith("--")).strip()


def duckdb_dialect(sql):
    """DataFusion → DuckDB for the few constructs the views use."""
    sql = sql.replace("* EXCEPT (", "* EXCLUDE (")
    sql = sql.replace("arrow_cast(make_array(), 'List(Utf8)')", "CAST([] AS VARCHAR[])")
    return sql


def report_path(report):
    """The SQL file of a report given by name or path."""
    if report.endswith(".sql"):
        return os.path.abspath(report)
    return os.path.join(ROOT, "sql", "reports", f"{report}.sql")


def report_name(report):
    return os.path.basename(report)[:-4] if report.endswith(".sql") else report


def file_lists(lake):
    """The current data files of each table, as the Delta log lists them."""
    import deltalake

    out = {}
    for t in TABLES:
        uris = deltalake.DeltaTable(os.path.join(lake, t)).file_uris()
        out[t] = [u[len("file://"):] if u.startswith("file://") else u for u in uris]
    return out


def duckdb_run(args):
    import duckdb

    with open(args.files) as f:
        files = json.load(f)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    for t in TABLES:
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in files[t])
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true)"
        )
    con.execute(MEDIA_KIND_MACRO)
    for name, path in VIEWS:
        con.execute(f"CREATE VIEW {name} AS {duckdb_dialect(body(path))}")
    rows = con.execute(body(report_path(args.report))).fetchall()
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    sys.stdout.flush()
    os._exit(0)


def streams_in(lake):
    """Rows of the lake's `streams` table, from the Parquet footers."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in file_lists(lake)["streams"])


def run_timed(cmd, pin=False, ok=(0,)):
    """Runs `cmd` under /usr/bin/time, pinned to one core if `pin`: (exit code, wall seconds,
    peak RSS in MB, CPU %). An exit code outside `ok` is reported with the command's stderr."""
    prefix = ["taskset", "-c", "0"] if pin else []
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M %P"] + prefix + cmd,
                       capture_output=True, text=True)
    lines = [l for l in p.stderr.splitlines() if l.startswith("TIME ")]
    if not lines:
        sys.exit(f"no timing from: {' '.join(cmd)}\n{p.stderr}")
    _, secs, kb, cpu = lines[-1].split()
    if p.returncode not in ok:
        print(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-4000:]}", file=sys.stderr)
    return p.returncode, float(secs), int(kb) / 1024, int(cpu.rstrip("%"))


def timed(cmd):
    """Runs `cmd` (which must succeed): (wall seconds, peak RSS in MB)."""
    code, secs, rss, _ = run_timed(cmd)
    if code != 0:
        sys.exit(f"failed ({code}): {' '.join(cmd)}")
    return secs, rss


def read_rows(path, header):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[1:] if header else rows


def same(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a in ("", "NULL") and b in ("", "NULL")
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def compare(report, ours, theirs):
    if len(ours) != len(theirs):
        sys.exit(f"{report}: cqlake gave {len(ours)} rows, DuckDB {len(theirs)}")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if len(a) != len(b) or not all(same(x, y) for x, y in zip(a, b)):
            sys.exit(f"{report}: row {i + 1} differs: cqlake {a}, DuckDB {b}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "duckdb-run":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("--files", required=True)
        p.add_argument("--report", required=True)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--out", required=True)
        return duckdb_run(p.parse_args())
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lake", required=True)
    p.add_argument("--cqlake", required=True)
    p.add_argument("--reports", default="summary,networks")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--markdown", help="also write the table here as Markdown")
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="cqlake-sql-")
    files = os.path.join(tmp, "files.json")
    lists = file_lists(a.lake)
    with open(files, "w") as f:
        json.dump(lists, f)
    mb = sum(os.path.getsize(p) for t in TABLES for p in lists[t]) / 1e6
    results = []
    print(f"lake {a.lake}: {mb:.0f} MB of Parquet in {sum(len(v) for v in lists.values())} files "
          f"({', '.join(f'{t} {len(lists[t])}' for t in TABLES)}); {a.runs} runs each, {a.threads} threads")
    print(f"{'query':<22} {'tool':<7} {'median_s':>9} {'min_s':>7} {'peak_MB':>8} {'rows':>6} {'ratio':>7}")
    for given in a.reports.split(","):
        report = report_name(given)
        ours_out = os.path.join(tmp, f"{report}.cqlake.csv")
        theirs_out = os.path.join(tmp, f"{report}.duckdb.csv")
        tools = {
            # The report's file rather than its name: both tools run the SQL on disk.
            "cqlake": [a.cqlake, "report", report_path(given),
                       "--lake", a.lake, "--threads", str(a.threads),
                       "--format", "csv", "--output", ours_out],
            "duckdb": [sys.executable, os.path.abspath(__file__), "duckdb-run", "--files", files,
                       "--report", report_path(given), "--threads", str(a.threads), "--out", theirs_out],
        }
        measured = {}
        for _ in range(a.runs):
            for tool, cmd in tools.items():
                measured.setdefault(tool, []).append(timed(cmd))
        compare(report, read_rows(ours_out, True), read_rows(theirs_out, False))
        rows = len(read_rows(ours_out, True))
        duck = statistics.median(t for t, _ in measured["duckdb"])
        for tool in tools:
            times = [t for t, _ in measured[tool]]
            med = statistics.median(times)
            peak = max(m for _, m in measured[tool])
            ratio = med / duck
            print(f"{report:<22} {tool:<7} {med:>9.2f} {min(times):>7.2f} {peak:>8.0f} {rows:>6} {ratio:>6.2f}x")
            results.append({"report": report, "tool": tool, "threads": a.threads, "median_s": med,
                            "min_s": min(times), "peak_rss_mb": peak, "rows": rows,
                            "ratio_to_duckdb": ratio})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(f"Lake: {streams_in(a.lake)} streams, {mb:.0f} MB of Parquet; "
                    f"{a.runs} runs each, {a.threads} threads.\n\n")
            f.write("| query | tool | median s | min s | peak RSS MB | rows | time ÷ DuckDB's |\n")
            f.write("|---|---|---|---|---|---|---|\n")
            for r in results:
                f.write(f"| {r['report']} | {r['tool']} | {r['median_s']:.2f} | {r['min_s']:.2f} "
                        f"| {r['peak_rss_mb']:.0f} | {r['rows']} | {r['ratio_to_duckdb']:.2f} |\n")


if __name__ == "__main__":
    main()
