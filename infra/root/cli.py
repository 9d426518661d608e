"""``selene``: the command line, and the composition root of every Selene process."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import urllib.request
from pathlib import Path

from infra.settings import ApiSettings, RedisSettings, settings_rows

PARTS_WITH_HEARTBEAT = ("worker", "agent", "sink", "tasks-worker")


def cmd_up(args: argparse.Namespace) -> int:
    from infra.root.stack import SAMPLE_CLIP, up

    demo = str(SAMPLE_CLIP) if args.demo == "sample" else args.demo
    return up(demo)


def cmd_api(_: argparse.Namespace) -> int:
    from infra.root.api import main

    main()
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    from infra.root.worker import main

    main()
    return 0


def cmd_sink(_: argparse.Namespace) -> int:
    from infra.root.sink import main

    main()
    return 0


def cmd_tasks_worker(_: argparse.Namespace) -> int:
    from infra.root.tasks_worker import main

    main()
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from infra.root.tasks_cli import main

    return main(args.login, args.password, args.page_size, args.status, args.type)


def cmd_agent(_: argparse.Namespace) -> int:
    from infra.root.agent import main

    main()
    return 0


def export_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema per contract model, plus the topic catalogue and the error codes."""
    from schemas import errors
    from schemas.registry import contract_models
    from schemas.topics import CATALOGUE

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in sorted(contract_models().items()):
        path = directory / f"{name}.json"
        path.write_text(json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    topics = [
        {
            "name": t.name,
            "key": t.key,
            "value": t.value_type.__name__ if t.value_type else "bytes",
            "headers": t.header_type.__name__ if t.header_type else None,
            "partitions": t.partitions,
            "retention_ms": t.retention_ms,
            "compacted": t.compacted,
            "description": t.description,
        }
        for t in CATALOGUE
    ]
    codes = [
        {"error_code": e.code, "desc": e.desc, "detail": e.detail, "http_status": e.http_status}
        for e in sorted(errors.ALL, key=lambda e: e.code)
    ]
    for name, content in (("topics.json", topics), ("errors.json", codes)):
        path = directory / name
        path.write_text(json.dumps(content, indent=2) + "\n")
        written.append(path)
    return written


def cmd_schemas(args: argparse.Namespace) -> int:
    written = export_schemas(Path(args.dir))
    print(f"wrote {len(written)} files to {args.dir}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    rows = settings_rows()
    if args.markdown:
        from infra.readme_settings import table

        print(table())
    else:
        for var, default, meaning in rows:
            print(f"{var:<36} {default:<28} {meaning}")
    return 0


def cmd_version(_: argparse.Namespace) -> int:
    from infra.root.app import package_version

    print(f"selene {package_version('selene')}")
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Exit 0 when the part of this host is healthy: the API answers, or the part's heartbeat is fresh."""
    if args.part == "api":
        api = ApiSettings()
        host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
        try:
            with urllib.request.urlopen(f"http://{host}:{api.port}/6/health", timeout=3) as response:  # noqa: S310
                healthy = response.status == 200
        except OSError as exc:
            print(f"api: not answering ({exc})")
            return 1
        print("api: ok" if healthy else "api: unhealthy")
        return 0 if healthy else 1

    import redis.asyncio as aioredis

    from infra.heartbeat import alive

    async def check() -> dict:
        client = aioredis.from_url(RedisSettings().url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return await alive(client, args.part, f"{socket.gethostname()}:")
        finally:
            await client.aclose()

    try:
        found = asyncio.run(check())
    except OSError as exc:
        print(f"{args.part}: cannot reach redis ({exc})")
        return 1
    print(f"{args.part}: {'ok' if found else 'no recent heartbeat'}")
    return 0 if found else 1


def cmd_models(_: argparse.Namespace) -> int:
    from streams.models.registry import REGISTRY, ModelError, verify
    from streams.models.runtime import inference_backend

    print(f"inference backend: {inference_backend()}")
    for spec in REGISTRY.values():
        try:
            state = f"ok {verify(spec)}"
        except ModelError as exc:
            state = f"BROKEN: {exc}"
        use = "" if spec.commercial_use else "  ** NON-COMMERCIAL weights: research use only **"
        print(f"{spec.name:<24} {spec.role:<16} {spec.input_size[0]}x{spec.input_size[1]}  sha256 {spec.sha256[:16]}...")
        print(f"    license: {spec.license}{use}")
        print(f"    {state}")
    return 0


def cmd_milvus_calibrate(args: argparse.Namespace) -> int:
    from analytics.recognition.face_store import collection_name, metric
    from analytics.recognition.index_tuning import EF_STEPS, calibrate, choose_ef
    from analytics.recognition.milvus import open_milvus
    from infra.errors import StackError
    from infra.settings import MilvusSettings

    settings = MilvusSettings()
    try:
        client = open_milvus(settings)
    except StackError as exc:
        print(exc, file=sys.stderr)
        return 2
    name = collection_name(args.version, settings.collection_prefix)
    if not client.has_collection(name):
        print(f"no collection {name}: nothing stored with descriptor_version {args.version}", file=sys.stderr)
        return 2
    client.load_collection(name)
    print(f"{name}: recall@{args.k} against exact search of every stored descriptor, {args.queries} queries")
    print(f"{'ef':>6} {'recall':>8} {'p50 ms':>8} {'p99 ms':>8}")
    try:
        trials = calibrate(client, name, metric(args.version), k=args.k, queries=args.queries, efs=EF_STEPS,
                           target=args.target_recall)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        client.close()
    for trial in trials:
        print(f"{trial.ef:>6} {trial.recall:>8.3f} {trial.p50_ms:>8.2f} {trial.p99_ms:>8.2f}")
    chosen = choose_ef(trials, args.target_recall)
    if chosen is None:
        print(f"no ef up to {EF_STEPS[-1]} reaches recall {args.target_recall}", file=sys.stderr)
        return 1
    print(f"set SELENE_MILVUS_HNSW_EF={chosen.ef} (recall {chosen.recall:.3f}, p99 {chosen.p99_ms:.1f} ms)")
    return 0


def _progress(done: int, total: int) -> None:
    total = max(total, 1)
    filled = int(30 * min(done, total) / total)
    sys.stderr.write(f"\ranalyze [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} frames")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_analyze(args: argparse.Namespace) -> int:
    """LUNA ``/videosdk``-shaped analysis of a video file, in-process, with the processors' own logic."""
    import av
    from pydantic import ValidationError

    from streams.pipeline import analyze

    try:
        params = json.loads(args.params) if args.params else {}
        if not isinstance(params, dict):
            raise ValueError("--params must be a JSON object")
        result = analyze(args.video, [(args.analytic, params)], progress=None if args.quiet else _progress)
    except (ValueError, ValidationError) as exc:  # ValidationError is a ValueError; both are bad parameters
        print(json.dumps({"error_code": 43008, "desc": "Bad/incomplete input data", "detail": str(exc)}))
        return 2
    except (av.FFmpegError, OSError) as exc:
        print(json.dumps({"error_code": 43004, "desc": "Bad/incomplete input data",
                          "detail": f"Error occurred while decoding video by url {args.video}: {exc}"}))
        return 1
    print(json.dumps(result, indent=2))
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from infra.root.luna_coverage import coverage

    result = coverage()
    print(f"LUNA API v6 operations served: {len(result.served)} / {len(result.luna)} ({result.ratio:.0%})")
    if args.missing:
        print("\n".join(f"  missing: {op}" for op in result.missing))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Run read-only SQL through the API, which owns the embedded warehouse; print tab-separated rows."""
    import httpx

    from infra.settings import ManagerSettings

    api, manager = ApiSettings(), ManagerSettings()
    host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    auth = (args.login or manager.admin_login, args.password or manager.admin_password)
    try:
        response = httpx.post(f"http://{host}:{api.port}/6/sql", json={"query": args.query}, auth=auth, timeout=60)
    except httpx.HTTPError as exc:
        print(f"selene sql: the API at {host}:{api.port} is not answering ({exc}); is `selene up` running?", file=sys.stderr)
        return 1
    body = response.json()
    if response.status_code != 200:
        print(f"selene sql: {body.get('error_code')}: {body.get('detail')}", file=sys.stderr)
        return 1
    rows = body["rows"]
    if rows:
        print("\t".join(rows[0]))
        for row in rows:
            print("\t".join("" if v is None else str(v) for v in row.values()))
    if body["truncated"]:
        print(f"(first {len(rows)} rows)", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="selene", description="Selene: Kafka-native video analytics.")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the embedded stack on loopback (broker, redis, API, worker, agent)")
    up.add_argument(
        "--demo", nargs="?", const="sample", default=None, metavar="VIDEO",
        help="play a video as a demo stream (without VIDEO: the sample clip shipped with Selene)",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("api", help="run the REST API and video manager").set_defaults(func=cmd_api)
    sub.add_parser("worker", help="run the stream processors (Faust)").set_defaults(func=cmd_worker)
    sub.add_parser("sink", help="run the warehouse sink on its own").set_defaults(func=cmd_sink)
    sub.add_parser("agent", help="run a video agent").set_defaults(func=cmd_agent)
    sub.add_parser("tasks-worker", help="run a task worker (needs a Milvus server)").set_defaults(func=cmd_tasks_worker)
    tasks = sub.add_parser("tasks", help="list LUNA tasks with their progress, through the API")
    tasks.add_argument("--status", type=int, help="only this task_status (0 pending .. 5 done)")
    tasks.add_argument("--type", type=int, help="only this task_type (1 linker, 2 clustering, 4 gc, ...)")
    tasks.add_argument("--page-size", type=int, default=20, help="how many of the newest tasks (default 20)")
    tasks.add_argument("--login", help="login (default: SELENE_MANAGER_ADMIN_LOGIN)")
    tasks.add_argument("--password", help="password (default: SELENE_MANAGER_ADMIN_PASSWORD)")
    tasks.set_defaults(func=cmd_tasks)

    schemas = sub.add_parser("schemas", help="the message contract")
    schemas_sub = schemas.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = schemas_sub.add_parser("export", help="write JSON Schema of every message and REST body")
    export.add_argument("dir", help="directory to write to")
    export.set_defaults(func=cmd_schemas)

    settings = sub.add_parser("settings", help="list every setting with its env var and default")
    settings.add_argument("--markdown", action="store_true", help="as a Markdown table")
    settings.set_defaults(func=cmd_settings)
    sub.add_parser("version", help="print Selene's version").set_defaults(func=cmd_version)
    sql = sub.add_parser("sql", help="run read-only SQL on the warehouse, through the API")
    sql.add_argument("query", help='e.g. "SELECT count() FROM selene.people_counts"')
    sql.add_argument("--login", help="admin login (default: SELENE_MANAGER_ADMIN_LOGIN)")
    sql.add_argument("--password", help="admin password (default: SELENE_MANAGER_ADMIN_PASSWORD)")
    sql.set_defaults(func=cmd_sql)
    sub.add_parser("models", help="list the model registry: files, checksums, licenses").set_defaults(
        func=cmd_models
    )
    analyze = sub.add_parser("analyze", help="analyse a video file offline; prints LUNA /videosdk JSON")
    analyze.add_argument("video", help="video file (path or URL PyAV can open)")
    analyze.add_argument("--analytic", required=True, choices=("people_count", "human_tracking"))
    analyze.add_argument("--params", default=None, help="the analytic's parameters as a JSON object")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    analyze.set_defaults(func=cmd_analyze)
    milvus = sub.add_parser("milvus", help="the descriptor store")
    milvus_sub = milvus.add_subparsers(dest="milvus_command", required=True)
    calibrate = milvus_sub.add_parser(
        "calibrate", help="measure recall and latency per HNSW ef on the stored descriptors; print the ef to set"
    )
    calibrate.add_argument("--version", type=int, default=1001, help="descriptor version (default 1001)")
    calibrate.add_argument("--target-recall", type=float, default=0.95, help="recall@k to reach (default 0.95)")
    calibrate.add_argument("--k", type=int, default=5, help="top k (default 5)")
    calibrate.add_argument("--queries", type=int, default=200, help="stored descriptors used as queries (default 200)")
    calibrate.set_defaults(func=cmd_milvus_calibrate)
    luna = sub.add_parser("coverage", help="count the LUNA API v6 operations this build serves")
    luna.add_argument("--missing", action="store_true", help="list the operations not served")
    luna.set_defaults(func=cmd_coverage)
    health = sub.add_parser("healthcheck", help="exit 0 if this host's part is healthy (for containers)")
    health.add_argument("part", choices=("api", *PARTS_WITH_HEARTBEAT))
    health.set_defaults(func=cmd_healthcheck)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
