"""The conversions cqlake is compared with: DuckDB, pyarrow and Polars, each turning exported
call records into one Parquet file of one row per stream with the ~30 core columns of cqlake's
`streams` table (same names, durations in ms), zstd-compressed.

    python benches/peers.py TOOL --input F --container ndjson|pretty-page|array --threads N --out DIR

Each tool does it the way its documentation suggests, with an explicit schema (unknown fields
ignored):
- duckdb: `read_json(columns=...)`, `unnest` level by level down to streams, `COPY ... TO`
  Parquet;
- pyarrow: `pyarrow.json.read_json(explicit_schema)`, lists flattened with
  `list_flatten`/`list_parent_indices` and `take`, `pyarrow.parquet.write_table`;
- polars: `read_ndjson`/`read_json(schema=...)`, `explode`/`unnest`, `write_parquet`.

The generator writes durations as `PT<seconds>S` only, so the peers convert that form
(`PT0.028S` → 28.0); cqlake parses every ISO 8601 duration. pyarrow cannot read a top-level
JSON array (its reader takes objects, one after another): it exits with code 3, which the
comparison shows as "n/a".
"""

import argparse
import os
import sys

STR, F64, I64, TS = "str", "f64", "i64", "ts"
UNSUPPORTED = 3
# pyarrow's JSON block: a record must fit in one (the default 1 MB is smaller than large calls).
BLOCK = 16 << 20


def struct(**fields):
    return ("struct", list(fields.items()))


def lst(t):
    return ("list", t)


# The parts of a callRecord the core columns read, as a type tree.
STREAM = struct(
    streamId=STR, streamDirection=STR, audioCodec=STR,
    averageJitter=STR, maxJitter=STR, averageRoundTripTime=STR,
    averagePacketLossRate=F64, averageAudioDegradation=F64,
    averageRatioOfConcealedSamples=F64, packetUtilization=I64, averageBandwidthEstimate=I64,
)
NETWORK = struct(subnet=STR, ipAddress=STR, connectionType=STR, wifiBand=STR)
MEDIA = struct(label=STR, callerNetwork=NETWORK, calleeNetwork=NETWORK, streams=lst(STREAM))
SEGMENT = struct(id=STR, startDateTime=TS, endDateTime=TS, media=lst(MEDIA))
ENDPOINT = struct(
    userAgent=struct(platform=STR, productFamily=STR), feedback=struct(rating=STR)
)
SESSION = struct(id=STR, caller=ENDPOINT, callee=ENDPOINT, segments=lst(SEGMENT))
CALL = struct(id=STR, type=STR, startDateTime=TS, endDateTime=TS, sessions=lst(SESSION))

# Output column, (level, path below it), whether it is a duration to turn into ms.
COLUMNS = [
    ("call_id", ("call", "id"), False),
    ("call_type", ("call", "type"), False),
    ("call_start_date_time", ("call", "startDateTime"), False),
    ("call_end_date_time", ("call", "endDateTime"), False),
    ("session_id", ("session", "id"), False),
    ("segment_id", ("segment", "id"), False),
    ("segment_start_date_time", ("segment", "startDateTime"), False),
    ("segment_end_date_time", ("segment", "endDateTime"), False),
    ("media_label", ("media", "label"), False),
    ("caller_network_subnet", ("media", "callerNetwork", "subnet"), False),
    ("caller_network_ip_address", ("media", "callerNetwork", "ipAddress"), False),
    ("caller_network_connection_type", ("media", "callerNetwork", "connectionType"), False),
    ("caller_network_wifi_band", ("media", "callerNetwork", "wifiBand"), False),
    ("callee_network_subnet", ("media", "calleeNetwork", "subnet"), False),
    ("callee_network_connection_type", ("media", "calleeNetwork", "connectionType"), False),
    ("session_caller_user_agent_platform", ("session", "caller", "userAgent", "platform"), False),
    ("session_caller_user_agent_product_family",
     ("session", "caller", "userAgent", "productFamily"), False),
    ("session_callee_user_agent_platform", ("session", "callee", "userAgent", "platform"), False),
    ("session_callee_user_agent_product_family",
     ("session", "callee", "userAgent", "productFamily"), False),
    ("session_caller_feedback_rating", ("session", "caller", "feedback", "rating"), False),
    ("session_callee_feedback_rating", ("session", "callee", "feedback", "rating"), False),
    ("stream_id", ("stream", "streamId"), False),
    ("stream_direction", ("stream", "streamDirection"), False),
    ("audio_codec", ("stream", "audioCodec"), False),
    ("average_jitter_ms", ("stream", "averageJitter"), True),
    ("max_jitter_ms", ("stream", "maxJitter"), True),
    ("average_round_trip_time_ms", ("stream", "averageRoundTripTime"), True),
    ("average_packet_loss_rate", ("stream", "averagePacketLossRate"), False),
    ("average_audio_degradation", ("stream", "averageAudioDegradation"), False),
    ("average_ratio_of_concealed_samples", ("stream", "averageRatioOfConcealedSamples"), False),
    ("packet_utilization", ("stream", "packetUtilization"), False),
    ("average_bandwidth_estimate", ("stream", "averageBandwidthEstimate"), False),
]
# Each level and the list field of its parent that holds it.
LEVELS = [("call", None), ("session", "sessions"), ("segment", "segments"), ("media", "media"),
          ("stream", "streams")]


# --- DuckDB ------------------------------------------------------------------------------

def duck_type(t):
    if t == STR:
        return "VARCHAR"
    if t == F64:
        return "DOUBLE"
    if t == I64:
        return "BIGINT"
    if t == TS:
        return "TIMESTAMPTZ"
    if t[0] == "list":
        return duck_type(t[1]) + "[]"
    return "STRUCT(" + ", ".join(f'"{n}" {duck_type(f)}' for n, f in t[1]) + ")"


def duckdb_convert(a, out):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    con.execute("SET preserve_insertion_order = false")
    spill = os.path.join(out, ".duckdb-spill").replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")  # not the working directory
    big = 1 << 30  # a pretty-printed page is one 200 MB object
    path = a.input.replace("'", "''")
    if a.container == "pretty-page":
        columns = "{'value': '" + duck_type(lst(CALL)) + "'}"
        source = (f"SELECT c.* FROM (SELECT unnest(value) AS c FROM read_json('{path}', "
                  f"format = 'unstructured', columns = {columns}, maximum_object_size = {big}))")
    else:
        fmt = "newline_delimited" if a.container == "ndjson" else "array"
        columns = "{" + ", ".join(f"'{n}': '{duck_type(t)}'" for n, t in CALL[1]) + "}"
        source = (f"SELECT * FROM read_json('{path}', format = '{fmt}', columns = {columns}, "
                  f"maximum_object_size = {big})")
    # One level at a time, `unnest` in the select list (DuckDB's idiom): each step keeps the
    # columns made so far, takes its level's columns and unnests the next list.
    ctes = [f"l0 AS ({source})"]
    for i, (level, _) in enumerate(LEVELS):
        own = []
        for name, (lv, *path_), ms in COLUMNS:
            if lv != level:
                continue
            expr = (level + "." if i else "") + ".".join(f'"{p}"' for p in path_)
            if ms:
                expr = f"CAST({expr}[3:-2] AS DOUBLE) * 1000"
            own.append(f"{expr} AS {name}")
        keep = [f"* EXCLUDE ({level})"] if i else []
        if i + 1 < len(LEVELS):
            field = LEVELS[i + 1][1]
            child = f"unnest({level + '.' if i else ''}{field}) AS {LEVELS[i + 1][0]}"
            own.append(child)
        ctes.append(f"l{i + 1} AS (SELECT {', '.join(keep + own)} FROM l{i})")
    sql = (f"WITH {', '.join(ctes)} SELECT {', '.join(n for n, _, _ in COLUMNS)} "
           f"FROM l{len(LEVELS)}")
    target = os.path.join(out, "streams.parquet").replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")


# --- pyarrow -----------------------------------------------------------------------------

def arrow_type(pa, t):
    if t == STR:
        return pa.string()
    if t == F64:
        return pa.float64()
    if t == I64:
        return pa.int64()
    if t == TS:
        # pyarrow's JSON reader refuses 7 fraction digits as microseconds.
        return pa.timestamp("ns", tz="UTC")
    if t[0] == "list":
        return pa.list_(arrow_type(pa, t[1]))
    return pa.struct([(n, arrow_type(pa, f)) for n, f in t[1]])


def pyarrow_convert(a, out):
    import pyarrow as pa

    pa.set_cpu_count(a.threads)
    pa.set_io_thread_count(a.threads)
    import pyarrow.compute as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    if a.container == "array":
        sys.exit(UNSUPPORTED)
    size = os.path.getsize(a.input)
    if a.container == "pretty-page":
        schema = pa.schema([("value", arrow_type(pa, lst(CALL)))])
        ropts = pj.ReadOptions(use_threads=a.threads > 1, block_size=size + 1)
        popts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore",
                                newlines_in_values=True)
        page = pj.read_json(a.input, read_options=ropts, parse_options=popts)
        calls = pc.list_flatten(page.column("value").combine_chunks())
    else:
        schema = pa.schema([(n, arrow_type(pa, t)) for n, t in CALL[1]])
        ropts = pj.ReadOptions(use_threads=a.threads > 1, block_size=BLOCK)
        popts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        calls = pj.read_json(a.input, read_options=ropts, parse_options=popts) \
            .combine_chunks().to_struct_array().combine_chunks()
    # Flatten level by level, keeping each level's parent index; then index every level by
    # stream through the chain of parents.
    arrays = {"call": calls}
    parents = {}
    prev = "call"
    for level, field in LEVELS[1:]:
        lists = pc.struct_field(arrays[prev], field)
        arrays[level] = pc.list_flatten(lists)
        parents[level] = pc.list_parent_indices(lists)
        prev = level
    index = {"stream": None}
    chain = None
    for (level, _), (child, _) in zip(reversed(LEVELS[:-1]), reversed(LEVELS[1:])):
        up = parents[child]
        chain = up if chain is None else pc.take(up, chain)
        index[level] = chain
    columns = []
    for name, (level, *path_), ms in COLUMNS:
        arr = arrays[level]
        for p in path_:
            arr = pc.struct_field(arr, p)
        if index[level] is not None:
            arr = pc.take(arr, index[level])
        if ms:
            arr = pc.multiply(pc.cast(pc.utf8_slice_codeunits(arr, 2, -1), pa.float64()), 1000.0)
        elif pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.timestamp("us", tz="UTC"), safe=False)
        columns.append((name, arr))
    table = pa.table(dict(columns))
    pq.write_table(table, os.path.join(out, "streams.parquet"), compression="zstd")


# --- Polars ------------------------------------------------------------------------------

def polars_type(pl, t):
    if t == STR or t == TS:
        return pl.String  # timestamps parsed after reading (below)
    if t == F64:
        return pl.Float64
    if t == I64:
        return pl.Int64
    if t[0] == "list":
        return pl.List(polars_type(pl, t[1]))
    return pl.Struct({n: polars_type(pl, f) for n, f in t[1]})


def polars_convert(a, out):
    os.environ["POLARS_MAX_THREADS"] = str(a.threads)
    import polars as pl

    call_schema = {n: polars_type(pl, t) for n, t in CALL[1]}
    if a.container == "ndjson":
        calls = pl.read_ndjson(a.input, schema=call_schema)
    elif a.container == "array":
        calls = pl.read_json(a.input, schema=call_schema)
    else:
        page = pl.read_json(a.input, schema={"value": pl.List(pl.Struct(call_schema))})
        calls = page.select(pl.col("value").explode()).unnest("value")
    # One level at a time: take the level's columns, then explode the next list (only the
    # columns made so far are repeated).
    df = calls.select(pl.struct(pl.all()).alias("call"))
    for i, (level, _) in enumerate(LEVELS):
        own = []
        for name, (lv, *path_), ms in COLUMNS:
            if lv != level:
                continue
            expr = pl.col(level)
            for p in path_:
                expr = expr.struct.field(p)
            if ms:
                expr = expr.str.slice(2).str.strip_suffix("S").cast(pl.Float64) * 1000.0
            elif name.endswith("_date_time"):
                expr = expr.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us",
                                            time_zone="UTC")
            own.append(expr.alias(name))
        if i + 1 < len(LEVELS):
            child, field = LEVELS[i + 1]
            own.append(pl.col(level).struct.field(field).alias(child))
        df = df.select(pl.all().exclude(level), *own)
        if i + 1 < len(LEVELS):
            # An empty list explodes to one null row: those are dropped.
            df = df.explode(child).filter(pl.col(child).is_not_null())
    df.select([n for n, _, _ in COLUMNS]).write_parquet(os.path.join(out, "streams.parquet"),
                                                        compression="zstd")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tool", choices=["duckdb", "pyarrow", "polars"])
    p.add_argument("--input", required=True)
    p.add_argument("--container", required=True, choices=["ndjson", "pretty-page", "array"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    {"duckdb": duckdb_convert, "pyarrow": pyarrow_convert, "polars": polars_convert}[a.tool](a, a.out)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of large objects, as a script's user would not wait


if __name__ == "__main__":
    main()
