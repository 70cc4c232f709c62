"""Times every dashboard view of a running `cqlake serve`, as its pages ask for them.

    python3 benches/serve_views.py --url http://127.0.0.1:PORT [--runs 3] [--markdown FILE]

Each request is one panel of a page (the parameters the page sends); the user and call of the
drill-down are the first ones the views themselves name. Prints the time of the first request
(which computes the rollup kept in memory), then, per request, the fastest and the median of
the runs (seconds, wall clock, request to last byte) and the rows answered.
Standard library only.
"""

import argparse
import json
import statistics
import time
import urllib.parse
import urllib.request


def get(base, path):
    start = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=600) as answer:
        body = answer.read()
    return time.perf_counter() - start, json.loads(body)


def first(base, path, column, skip="("):
    _, answer = get(base, path)
    for row in answer["rows"]:
        value = row.get(column)
        if isinstance(value, str) and not value.startswith(skip):
            return value
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--markdown")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    q = urllib.parse.quote
    # The first request of a fresh server computes the rollup of the default rule set.
    first_seconds, months = get(base, "/api/views/quality?kind=audio")
    print(f"first request (computes the rollup): {first_seconds:.2f} s", flush=True)
    month = months["rows"][-1]["period"] if months["rows"] else "2026-01-01"
    month_end = month[:8] + "28"
    subnet = first(base, "/api/views/poor-subnets?kind=audio", "subnet") or "(unknown)"
    user = first(base, f"/api/views/poor-users?kind=audio&subnet={q(subnet)}", "user_id")
    call = first(base, f"/api/views/poor-calls?kind=audio&user={q(user or '')}", "call_id")
    requests = [
        ("overview", "/api/views/quality?kind=audio"),
        ("overview", "/api/views/reliability"),
        ("overview", "/api/views/networks?kind=audio"),
        ("overview", "/api/views/feedback"),
        ("quality, a month by day", f"/api/views/quality?kind=audio&grain=day&from={month}&to={month_end}"),
        ("networks", "/api/views/scenarios?kind=audio"),
        ("networks", "/api/views/breakdown?by=wifi_band&kind=audio"),
        ("networks", "/api/views/breakdown?by=wifi_driver&kind=audio"),
        ("clients", "/api/views/breakdown?by=client_version&kind=audio"),
        ("devices", "/api/views/breakdown?by=capture_device&kind=audio"),
        ("feedback", "/api/views/feedback-tokens"),
        ("feedback", "/api/views/feedback-measured"),
        ("usage", "/api/views/usage"),
        ("usage", "/api/views/usage-hours"),
        ("pstn", "/api/views/pstn"),
        ("pstn", "/api/views/trunks"),
        ("pstn", "/api/views/sip-codes"),
        ("poor 1", "/api/views/poor-buildings?kind=audio"),
        ("poor 2", "/api/views/poor-subnets?kind=audio&building=(unknown)"),
        ("poor 3", f"/api/views/poor-users?kind=audio&subnet={q(subnet)}"),
        ("poor 4", f"/api/views/poor-calls?kind=audio&user={q(user or '')}"),
        ("user search", "/api/views/user-search?find=a"),
        ("user", f"/api/views/user-calls?user={q(user or '')}"),
        ("user", f"/api/views/breakdown?by=connection_type&kind=audio&user={q(user or '')}"),
        ("meeting", f"/api/views/meeting?call={q(call or '')}"),
        ("meeting", f"/api/views/call-streams?call={q(call or '')}"),
    ]
    lines = [
        f"First request (computes the rollup): {first_seconds:.2f} s.",
        "",
        "| page | request | fastest s | median s | rows |",
        "|---|---|---:|---:|---:|",
    ]
    for page, path in requests:
        times = []
        rows = 0
        for _ in range(args.runs):
            seconds, answer = get(base, path)
            times.append(seconds)
            rows = len(answer["rows"])
        line = f"| {page} | `{path.removeprefix('/api/views/')}` | {min(times):.2f} | {statistics.median(times):.2f} | {rows} |"
        print(line, flush=True)
        lines.append(line)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
