"""Driver of benches/store.sh: convert and report times, local disk against moto (S3) and
Azurite (Azure Blob) on loopback. Uses the stand-ins of tests/store/test_store.py."""

import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "store"))
import test_store  # noqa: E402  (the stand-ins)

BIN = os.environ["CQLAKE_BIN"]
WORK = pathlib.Path(os.environ.get("CQLAKE_BENCH_DIR", "/tmp/cqlake-bench"))
SCALE = float(os.environ.get("CQLAKE_BENCH_SCALE", "1"))
RUNS = int(os.environ.get("CQLAKE_BENCH_RUNS", "3"))
THREADS = os.environ.get("CQLAKE_THREADS", "2")


def timed(args, env):
    t = time.perf_counter()
    out = subprocess.run([BIN, *args], capture_output=True, text=True, env=env)
    if out.returncode not in (0, 3):
        raise SystemExit(f"cqlake {' '.join(args)}: {out.returncode}\n{out.stderr}")
    return time.perf_counter() - t


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    mb = max(1, int(200 * SCALE))
    corpus = WORK / f"store-{mb}MB.ndjson"
    if not corpus.exists():
        subprocess.run(
            [BIN, "gen", "--seed", "20261207", "--size", f"{mb}MB", "--container", "ndjson",
             "-o", str(corpus)],
            check=True,
        )
    size = corpus.stat().st_size
    stores = [("local disk", None), ("S3 (moto)", test_store.Moto()),
              ("Azure Blob (Azurite)", test_store.Azurite())]
    rows = []
    try:
        for name, store in stores:
            env = test_store.clean_env(store.env if store else {})
            convert, summary, networks = [], [], []
            for run in range(RUNS):
                if store:
                    lake = store.url(f"bench{run}")
                else:
                    lake = str(WORK / f"store-local-{run}")
                    subprocess.run(["rm", "-rf", lake], check=True)
                convert.append(timed(["convert", str(corpus), "--lake", lake, "--threads",
                                      THREADS, "-q"], env))
                summary.append(timed(["report", "summary", "--lake", lake, "--format", "csv"], env))
                networks.append(timed(["report", "networks", "--lake", lake, "--format", "csv"], env))
            c = statistics.median(convert)
            rows.append((name, c, size / 1e6 / c, statistics.median(summary),
                         statistics.median(networks)))
    finally:
        for _, store in stores:
            if store:
                store.stop()
    local = rows[0]
    lines = [
        f"corpus: {size / 1e6:.0f} MB NDJSON ({corpus.name}), {THREADS} threads, median of {RUNS}",
        "",
        "| lake | convert s | MB/s | vs local | report summary s | report networks s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, c, rate, s, n in rows:
        lines.append(f"| {name} | {c:.2f} | {rate:.1f} | {c / local[1]:.2f}x | {s:.2f} | {n:.2f} |")
    text = "\n".join(lines) + "\n"
    (WORK / "store-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
