"""cqlake's convert against DuckDB, pyarrow and Polars on the same generated corpora, in one run.

    python benches/compare.py --cqlake BIN [--work DIR] [--scale 1] [--runs 3] [--threads 1,2]
        [--tools cqlake,duckdb,pyarrow,polars] [--corpora ndjson,pretty-page,array]
        [--json FILE] [--markdown FILE]

The corpora (`cqlake gen`, seed 20261124): 1 GB of NDJSON, one 200 MB pretty-printed collection
page and a 2 GB JSON array (`--scale` multiplies the sizes). cqlake converts each into a Delta lake
(all six tables, every property); the peers (`benches/peers.py`) write one Parquet file of one
row per stream with 32 core columns of cqlake's `streams` table. Each measurement is a fresh
process under /usr/bin/time (wall seconds, peak RSS, CPU); one-thread runs are pinned to one core
with `taskset`. Runs go round-robin over tools and thread counts, `--runs` times.

Checks (a failure stops the run): every tool's stream rows equal the generator's count, and every
tool's 32 columns hold the same values as cqlake's (per column: non-null count, an exact sum of
hashes for strings, integers and timestamps, a sum to 1e-9 relative for floats).
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402
from sql_compare import run_timed  # noqa: E402

SEED = 20261124
CORPORA = {"ndjson": 1000, "pretty-page": 200, "array": 2000}  # MB at scale 1


def dir_mb(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6


def output_files(tool, out):
    if tool == "cqlake":
        import deltalake

        uris = deltalake.DeltaTable(os.path.join(out, "streams")).file_uris()
        return [u[len("file://"):] if u.startswith("file://") else u for u in uris]
    return [os.path.join(out, "streams.parquet")]


def fingerprint(files):
    """Stream rows and a per-column digest of the 32 core columns."""
    import duckdb

    con = duckdb.connect()
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_parquet([{listed}], union_by_name = true)")
    types = dict(con.execute("SELECT column_name, column_type FROM "
                             "(DESCRIBE s)").fetchall())
    parts = ["count(*)"]
    for name, _, _ in peers.COLUMNS:
        t = types[name]
        if t == "DOUBLE":
            parts.append(f"sum({name})")
        elif t.startswith("TIMESTAMP"):
            parts.append(f"sum(hash(epoch_us({name})))")
        else:
            parts.append(f"sum(hash({name}))")
        parts.append(f"count({name})")
    row = con.execute(f"SELECT {', '.join(parts)} FROM s").fetchone()
    names = ["rows"] + [f"{kind}({n})" for n, _, _ in peers.COLUMNS for kind in ("sum", "count")]
    return dict(zip(names, row))


def same_digest(a, b):
    bad = []
    for k, x in a.items():
        y = b[k]
        if isinstance(x, float) or isinstance(y, float):
            ok = (x is None and y is None) or (
                x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6))
        else:
            ok = x == y
        if not ok:
            bad.append(f"{k}: {x} vs {y}")
    return bad


def corpus(bin_, work, name, scale):
    path = os.path.join(work, f"{name}.json" if scale == 1 else f"{name}-x{scale:g}.json")
    stats = path + ".stats.json"
    mb = int(CORPORA[name] * scale)
    if not (os.path.exists(path) and os.path.exists(stats)):
        subprocess.run([bin_, "gen", "--seed", str(SEED), "--size", f"{mb}MB", "--container", name,
                        "-o", path, "--stats", stats], check=True, stdout=subprocess.DEVNULL)
    with open(stats) as f:
        expected = json.load(f)["rows"]["streams"]
    return path, expected


def command(tool, a, path, name, threads, out):
    if tool == "cqlake":
        return [a.cqlake, "convert", path, "--lake", out, "--threads", str(threads), "--quiet"]
    return [sys.executable, os.path.join(HERE, "peers.py"), tool, "--input", path,
            "--container", name, "--threads", str(threads), "--out", out]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cqlake", required=True)
    p.add_argument("--work", default="/tmp/cqlake-bench")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--tools", default="cqlake,duckdb,pyarrow,polars")
    p.add_argument("--corpora", default="ndjson,pretty-page,array")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", help="write the table here as Markdown")
    a = p.parse_args()
    import pyarrow.parquet as pq

    tools = a.tools.split(",")
    threads = [int(t) for t in a.threads.split(",")]
    os.makedirs(a.work, exist_ok=True)
    results = []
    for name in a.corpora.split(","):
        path, expected = corpus(a.cqlake, a.work, name, a.scale)
        size = os.path.getsize(path)
        measured = {}
        reference = None  # the first tool's digest, which the others must match
        for run in range(a.runs):
            for n in threads:
                for tool in tools:
                    key = (tool, n)
                    if isinstance(measured.get(key), str):
                        continue
                    out = os.path.join(a.work, f"out-{tool}-{n}")
                    shutil.rmtree(out, ignore_errors=True)
                    code, secs, rss, cpu = run_timed(command(tool, a, path, name, n, out), pin=n == 1,
                                                     ok=(0, peers.UNSUPPORTED))
                    if code == peers.UNSUPPORTED:
                        measured[key] = "n/a"
                        continue
                    if code != 0:
                        if tool == "cqlake":
                            sys.exit(f"{name}: cqlake failed")
                        # A peer that fails (out of memory, say) is shown as such.
                        measured[key] = f"failed ({code}, {rss:.0f} MB)"
                        shutil.rmtree(out, ignore_errors=True)
                        continue
                    files = output_files(tool, out)
                    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
                    if rows != expected:
                        sys.exit(f"{name}: {tool} at {n} threads wrote {rows} stream rows, "
                                 f"the generator made {expected}")
                    entry = measured.setdefault(key, [])
                    entry.append((secs, rss, cpu, dir_mb(out), rows))
                    if run == a.runs - 1:
                        digest = fingerprint(files)
                        if reference is None or reference[0] == tool:
                            reference = (tool, digest)
                        else:
                            bad = same_digest(reference[1], digest)
                            if bad:
                                sys.exit(f"{name}: {tool} at {n} threads differs from "
                                         f"{reference[0]}: " + "; ".join(bad[:5]))
                    shutil.rmtree(out, ignore_errors=True)
        for (tool, n), runs in measured.items():
            r = {"corpus": name, "tool": tool, "threads": n, "input_mb": size / 1e6}
            if isinstance(runs, str):
                r["na"] = runs
            else:
                med = statistics.median(s for s, *_ in runs)
                r.update(median_s=med, min_s=min(s for s, *_ in runs), mb_per_s=size / 1e6 / med,
                         peak_rss_mb=max(m for _, m, *_ in runs),
                         cpu_pct=statistics.median(c for _, _, c, *_ in runs),
                         output_mb=runs[-1][3], rows=runs[-1][4], runs=len(runs))
            results.append(r)
        print_table([r for r in results if r["corpus"] == name], header=(name == a.corpora.split(",")[0]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(markdown(results))


def ratios(results, r):
    """cqlake's speed (MB/s) and peak memory relative to the peer of row `r`."""
    if r["tool"] == "cqlake" or r.get("na"):
        return None
    ours = [x for x in results if x["tool"] == "cqlake" and x["threads"] == r["threads"]
            and x["corpus"] == r["corpus"] and not x.get("na")]
    if not ours:
        return None
    return ours[0]["mb_per_s"] / r["mb_per_s"], ours[0]["peak_rss_mb"] / r["peak_rss_mb"]


HEAD = ["corpus", "tool", "threads", "input MB", "median s", "MB/s", "peak RSS MB", "CPU %",
        "output MB", "stream rows", "cqlake speed ×", "cqlake memory ×"]


def cells(results, r):
    if r.get("na"):
        return [r["corpus"], r["tool"], str(r["threads"]), f"{r['input_mb']:.0f}"] + \
            [r["na"]] + [""] * 7
    q = ratios(results, r)
    return [r["corpus"], r["tool"], str(r["threads"]), f"{r['input_mb']:.0f}",
            f"{r['median_s']:.2f}", f"{r['mb_per_s']:.1f}", f"{r['peak_rss_mb']:.0f}",
            f"{r['cpu_pct']:.0f}", f"{r['output_mb']:.0f}", str(r["rows"]),
            f"{q[0]:.2f}" if q else "", f"{q[1]:.2f}" if q else ""]


def print_table(results, header):
    widths = [11, 8, 7, 8, 8, 7, 11, 5, 9, 11, 14, 15]
    if header:
        print(" ".join(h.rjust(w) if i > 1 else h.ljust(w) for i, (h, w) in enumerate(zip(HEAD, widths))))
    for r in results:
        print(" ".join(c.rjust(w) if i > 1 else c.ljust(w)
                       for i, (c, w) in enumerate(zip(cells(results, r), widths))), flush=True)


def markdown(results):
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in results:
        lines.append("| " + " | ".join(cells(results, r)) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
