"""IIIF: viewer sessions, thumbnails and ingest - Vellum against iiif-processor and IIPImage.

    bash bench/iiif/setup.sh                    # once: Debian's IIPImage, nginx, spawn-fcgi, libvips-tools,
                                                # and bench/iiif/node (npm ci: iiif-processor, OpenSeadragon)
    .venv/bin/python -m bench.iiif              # the full run: 6000x4000 (24 MP) and 20000x15000 (300 MP)
    .venv/bin/python -m bench.iiif --quick      # a smoke run on 1500x1000 and 4000x3000 images

Everything runs on this machine and talks over loopback only. The servers run one at a time,
each pinned to the same CPU set (``--server-cpus``, default CPU 1); the load generator and this
script run on the others (``--client-cpus``, default CPU 0). The source images are drawn
deterministically (bench/iiif/sources.py) and saved as JPEG q90; each server gets the same pixels
in the form it serves best:

- **Vellum**: the three processes `make run` starts (embedded AWS, API, event pump), with the same
  environment, its journal to disk included.
  The image is uploaded through the files API; ingest cuts its pyramid.
- **iiif-processor** (npm, the engine of serverless-iiif, sharp/libvips): bench/iiif/node/server.js
  on a tiled pyramidal TIFF made with sharp (256 px JPEG tiles, q85).
- **IIPImage** (Debian's iipsrv.fcgi 1.1 via spawn-fcgi, behind Debian's nginx): a tiled pyramidal
  TIFF made with `vips tiffsave --tile --pyramid` (256 px JPEG tiles, q85), output JPEG q85. Debian's
  IIPImage 1.1 speaks IIIF Image API 2.x only, so it is walked as a 2.1 service.

Measurements, per image:

1. **Viewer sessions**: info.json, then every tile OpenSeadragon 6.1.1 requests when a reader zooms
   from the whole image down to full resolution over every tile (bench/iiif/osd.py ports its
   IIIFTileSource: the tile grid, scale factors, sizes and preferred format each server's info.json
   advertises; before each session its URLs are checked against OpenSeadragon's own code, run by
   node/osd_tiles.js), over 6 keep-alive connections like a browser. Tile sizes differ between servers, so
   megapixels delivered per second (read from each answer's image header) are the measure, with
   requests/s, p50/p95 latency, the servers' CPU seconds and each server process's peak RSS.
   Session 1 is cold (Vellum: right after ingest, the pyramid stored and no other answer cached;
   peers: a freshly started server), sessions 2.. (``--rounds``) are warm. Vellum advertises
   ``preferredFormats: ["jpg"]``, its pyramid's format; were OpenSeadragon to pick another format
   from info.json, Vellum would also be walked in it (``--skip-osd-default`` skips that). Peers
   advertise no preferred format: jpg. Vellum also gets three single requests outside its pyramid
   (a region off the grid, a webp tile, a 256 px tile).
2. **Thumbnails**: ``full/!256,256/0/default.jpg`` once (first), then ``--thumbs`` times over 6
   connections (repeated); ``!n,n`` for ``--thumbs`` distinct n (each one new to every cache); and
   every whole-image size info.json lists, once each.
3. **Ingest** (Vellum): in a process of its own pinned to one core, against an embedded AWS on the
   server core (bench/iiif/ingest.py): the integrity check, identify_file and make_derivatives,
   with ``ru_maxrss``; and in the running stack, from the completion's answer to the pump's
   "image derivatives stored" log line, with the pump's peak RSS.

Results go to ``WORK/results.json`` and ``WORK/results.md`` (tables ready for docs/benchmarks.md;
WORK is ``--work``, by default vellum-bench-iiif in the temporary folder, which also caches the
sources and the peers' TIFFs between runs). A session that runs past ``--session-budget`` seconds
(150) stops and is reported as partial. The run first waits for the machine to be idle (a test suite
beside it would be measured too) and flags any phase in which other processes used the server core.
A full run takes about 13 minutes here, ``--quick`` about one.
"""

# The benchmark starts the servers it measures, with commands it builds itself.
# ruff: noqa: S603, S607

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.iiif import load, osd, procs, servers
from bench.iiif.report import markdown
from bench.iiif.sources import Source, ensure_source
from local.environment import ROOT, free_port

FULL_SIZES = ["6000x4000", "20000x15000"]
QUICK_SIZES = ["1500x1000", "4000x3000"]
THUMBNAIL = "full/!256,256/0/default.jpg"
LISTED_SIZE_AREA_CAP = 16_777_216  # listed sizes above this are too costly to render on every server


def _parse_size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------- sessions


def _usage(usage: procs.Usage) -> dict[str, Any]:
    return {
        "seconds": usage.seconds,
        "cpu_seconds": usage.cpu,
        "peak_rss_mib": usage.peak_rss_mib,
        "foreign_cpu_seconds": usage.foreign_cpu,
    }


def _run_summary(run: load.Run) -> dict[str, Any]:
    failures = run.failures
    return {
        "requests": run.requests,
        "planned": run.planned,
        "partial": run.stopped_early,
        "failures": len(failures),
        "statuses": {str(k): v for k, v in sorted(run.statuses().items())},
        "first_failure": None
        if not failures
        else {
            "path": failures[0].path,
            "status": failures[0].status,
            "expected": failures[0].expected,
            "got": failures[0].dimensions,
            "body": failures[0].body_head.decode("utf-8", "replace"),
        },
        "seconds": run.seconds,
        "megapixels": run.megapixels,
        "megabytes": run.megabytes,
        "mp_per_s": run.megapixels / run.seconds if run.seconds else 0.0,
        "requests_per_s": run.requests / run.seconds if run.seconds else 0.0,
        "p50_ms": run.latency_ms(0.5),
        "p95_ms": run.latency_ms(0.95),
    }


def viewer_session(
    server: servers.Server, info_path: str, label: str, args: argparse.Namespace, forced_format: str | None
) -> dict[str, Any]:
    """info.json, then every tile OpenSeadragon asks for, on ``connections`` connections."""
    meter = server.meter()
    meter.start()
    started = time.perf_counter()
    answer = requests.get(f"http://{server.host}:{server.port}{info_path}", timeout=120)
    answer.raise_for_status()
    info = answer.json()
    info_seconds = time.perf_counter() - started
    tiles = osd.tile_requests(info, forced_format)
    # Not timed: the walker must ask for exactly what OpenSeadragon would.
    checked_with = osd.check_against_openseadragon(info, tiles, forced_format, servers.NODE_DIR)
    run = load.fetch(
        server.host,
        server.port,
        [(t.path, t.expected) for t in tiles],
        connections=args.connections,
        budget_seconds=args.session_budget,
    )
    usage = meter.stop()
    run.seconds += info_seconds  # the session's wall time includes its info.json
    result = _run_summary(run)
    result.update(
        {
            "session": label,
            "format": osd.tile_format(info, forced_format),
            "tile": info["tiles"][0]["width"],
            "scale_factors": info["tiles"][0]["scaleFactors"],
            "info_ms": info_seconds * 1000,
            "walker_checked_against_openseadragon": checked_with,
            "usage": _usage(usage),
        }
    )
    per_level: dict[int, dict[str, float]] = {}
    for tile, got in zip(tiles, run.answers, strict=False):
        level = per_level.setdefault(tile.scale_factor, {"requests": 0, "seconds": 0.0, "failures": 0})
        level["requests"] += 1
        level["seconds"] += got.seconds
        level["failures"] += 0 if got.ok else 1
    result["per_scale_factor"] = {
        str(k): {
            "requests": v["requests"],
            "mean_ms": 1000 * v["seconds"] / v["requests"],
            "failures": v["failures"],
        }
        for k, v in sorted(per_level.items())
    }
    _log(
        f"  {server.name} {label}: {result['requests']}/{result['planned']} requests, "
        f"{result['failures']} failed, {result['mp_per_s']:.1f} MP/s, {result['requests_per_s']:.1f} req/s, "
        f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
        f"server CPU {usage.total_cpu:.1f} s in {run.seconds:.1f} s"
    )
    return result


def thumbnails(server: servers.Server, info_path: str, args: argparse.Namespace) -> dict[str, Any]:
    base = info_path.removesuffix("/info.json")
    info = requests.get(f"http://{server.host}:{server.port}{info_path}", timeout=120).json()
    meter = server.meter()
    meter.start()
    first = load.fetch(server.host, server.port, [(f"{base}/{THUMBNAIL}", None)], connections=1)
    repeated = load.fetch(
        server.host, server.port, [(f"{base}/{THUMBNAIL}", None)] * args.thumbs, connections=args.connections
    )
    distinct = load.fetch(
        server.host,
        server.port,
        [(f"{base}/full/!{n},{n}/0/default.jpg", None) for n in range(200, 200 + args.thumbs)],
        connections=args.connections,
    )
    usage = meter.stop()
    limits = _limits(info)
    listed, beyond = [], []
    for size in info.get("sizes", []):
        w, h = int(size["width"]), int(size["height"])
        size_text = f"{w}," if osd.version_of(info) == 2 else f"{w},{h}"
        item = (f"{base}/full/{size_text}/0/default.jpg", (w, h))
        if not _within(limits, w, h):
            beyond.append(item)
        elif w * h <= LISTED_SIZE_AREA_CAP:
            listed.append(item)
    listed_run = load.fetch(server.host, server.port, listed, connections=1)
    beyond_run = load.fetch(server.host, server.port, beyond, connections=1)
    result = {
        "first": _run_summary(first),
        "repeated": _run_summary(repeated),
        "distinct": _run_summary(distinct),
        "listed_sizes": _run_summary(listed_run),
        "listed_sizes_beyond_own_limits": _run_summary(beyond_run)
        | {"sizes": [p for p, _ in beyond], "limits": limits},
        "usage": _usage(usage),
    }
    _log(
        f"  {server.name} thumbnails: first {result['first']['p50_ms']:.0f} ms; repeated "
        f"{result['repeated']['requests_per_s']:.1f}/s p50 {result['repeated']['p50_ms']:.1f} ms; distinct "
        f"{result['distinct']['requests_per_s']:.1f}/s p50 {result['distinct']['p50_ms']:.1f} ms; "
        "listed sizes "
        f"{listed_run.requests - len(listed_run.failures)}/{listed_run.requests} ok; beyond own limits: "
        f"{beyond_run.statuses()}"
    )
    return result


def _limits(info: dict[str, Any]) -> dict[str, int]:
    holder = info
    if isinstance(info.get("profile"), list):  # 2.x: the limits sit in the profile's description
        for entry in info["profile"]:
            if isinstance(entry, dict):
                holder = {**entry, **{k: v for k, v in info.items() if k.startswith("max")}}
    return {k: int(holder[k]) for k in ("maxWidth", "maxHeight", "maxArea") if k in holder}


def _within(limits: dict[str, int], w: int, h: int) -> bool:
    max_width = limits.get("maxWidth")
    max_height = limits.get("maxHeight", max_width)
    return (
        (max_width is None or w <= max_width)
        and (max_height is None or h <= max_height)
        and ("maxArea" not in limits or w * h <= limits["maxArea"])
    )


# --------------------------------------------------------------------------------------------- ingest


def isolated_ingest(sources: list[Source], args: argparse.Namespace) -> dict[str, Any]:
    """Each image uploaded to a fresh embedded AWS (no pump), then ingested by a process of its own."""
    from local.embedded_aws import READY_FILE
    from local.environment import service_environment

    state = args.work / "ingest-state"
    subprocess.run(["rm", "-rf", str(state)], check=True)
    state.mkdir(parents=True)
    port = free_port()
    env = service_environment(port, free_port(), state)
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    aws_command = [
        sys.executable,
        "-m",
        "bench.iiif.embedded_aws",
        "--port",
        str(port),
        "--state",
        str(state),
    ]
    aws = procs.start(
        procs.pinned(args.server_cpus, aws_command), cwd=ROOT, env=env, log=args.work / "ingest-aws.log"
    )
    results: dict[str, Any] = {}
    ingest = [sys.executable, "-m", "bench.iiif.ingest"]
    try:
        procs.wait_until(lambda: (state / READY_FILE).exists(), "the embedded AWS", 120)
        for source in sources:
            up = subprocess.run(
                procs.pinned(args.client_cpus, [*ingest, "upload", str(source.path)]),
                cwd=ROOT, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            file_id = json.loads(up.stdout.strip().splitlines()[-1])["file_id"]
            cpu_before = procs.cpu_seconds(aws.pid)
            started = time.perf_counter()
            core = args.client_cpus.split(",")[0].split("-")[0]
            done = subprocess.run(
                procs.pinned(core, [*ingest, "ingest", file_id]),
                cwd=ROOT, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            measured["process_wall_seconds"] = time.perf_counter() - started
            measured["embedded_aws_cpu_seconds"] = procs.cpu_seconds(aws.pid) - cpu_before
            measured["core"] = core
            results[source.name] = measured
            _log(
                f"  ingest {source.name}: {measured['seconds']:.2f} s (derivatives "
                f"{list(measured['phases'].values())[-1]['seconds']:.2f} s), "
                f"peak RSS {measured['peak_rss_mib']:.0f} MiB"
            )
    finally:
        procs.stop(aws, sig=9)
    return results


# -------------------------------------------------------------------------------------------- servers


def run_vellum(sources: list[Source], args: argparse.Namespace) -> dict[str, Any]:
    vellum = servers.Vellum("Vellum", work=args.work, cpus=args.server_cpus)
    results: dict[str, Any] = {}
    _log("Vellum: starting the stack")
    vellum.start()
    try:
        for source in sources:
            out: dict[str, Any] = {}
            pump = vellum.processes["event pump (ingest)"].pid
            procs.reset_peak(pump)
            meter = vellum.meter()
            meter.start()
            pump_rss_before = procs.status_kib(pump, "VmRSS") / 1024
            upload_started = time.time()
            target, completed = vellum.upload(source)
            stored_at, record = vellum.wait_for_derivatives(target, completed)
            usage = meter.stop()
            out["ingest_in_stack"] = {
                "upload_seconds": completed - upload_started,
                "completion_to_derivatives_stored_seconds": stored_at - completed,
                "derivatives": record.get("count"),
                "pump_rss_before_mib": pump_rss_before,
                "usage": _usage(usage),
            }
            _log(
                f"  Vellum ingest {source.name} in the stack: {stored_at - completed:.2f} s "
                "from completion to derivatives stored; "
                f"pump peak RSS {usage.peak_rss_mib['event pump (ingest)']:.0f} MiB"
            )
            info_path = vellum.info_paths[target]
            sessions = [viewer_session(vellum, info_path, "cold", args, "jpg")]
            sessions += [
                viewer_session(vellum, info_path, f"warm {n + 1}", args, "jpg") for n in range(args.rounds)
            ]
            out["sessions_jpg"] = sessions
            out["probes"] = probes(vellum, info_path)
            # Walked a second time only if OpenSeadragon would not ask for the pyramid's jpg itself.
            advertised = requests.get(f"{vellum.url}{info_path}", timeout=60).json()
            if not args.skip_osd_default and osd.tile_format(advertised) != "jpg":
                osd_sessions = [viewer_session(vellum, info_path, "cold", args, None)]
                if not osd_sessions[0]["partial"]:
                    osd_sessions += [
                        viewer_session(vellum, info_path, f"warm {n + 1}", args, None)
                        for n in range(args.rounds)
                    ]
                out["sessions_osd_default"] = osd_sessions
            out["thumbnails"] = thumbnails(vellum, info_path, args)
            out["info_path"] = info_path
            results[source.name] = out
    finally:
        vellum.stop()
    return results


PROBES = (
    ("a full-resolution region off the tile grid (jpg)", "100,100,512,512/512,512/0/default.jpg"),
    ("the first full-resolution tile in webp", "0,0,512,512/512,512/0/default.webp"),
    ("the first tile of a 256 px grid (another viewer's tile size)", "0,0,256,256/256,256/0/default.jpg"),
)


def probes(server: servers.Server, info_path: str) -> list[dict[str, Any]]:
    """Single requests outside the pyramid, each once: what an uncached full-resolution answer costs."""
    base = info_path.removesuffix("/info.json")
    found = []
    for what, params in PROBES:
        meter = server.meter()
        meter.start()
        run = load.fetch(server.host, server.port, [(f"{base}/{params}", None)], connections=1)
        usage = meter.stop()
        answer = run.answers[0]
        found.append(
            {
                "probe": what,
                "path": answer.path,
                "status": answer.status,
                "ms": answer.seconds * 1000,
                "bytes": answer.size,
                "body": answer.body_head.decode("utf-8", "replace"),
                "usage": _usage(usage),
            }
        )
        _log(f"  {server.name} probe {what}: {answer.status} in {answer.seconds * 1000:.0f} ms")
    return found


def run_peer(server: servers.Server, sources: list[Source], args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for source in sources:
        _log(f"{server.name}: starting for {source.name}")
        server.start()  # type: ignore[attr-defined]
        try:
            info_path = server.info_path(source)
            sessions = [viewer_session(server, info_path, "cold", args, None)]
            sessions += [
                viewer_session(server, info_path, f"warm {n + 1}", args, None) for n in range(args.rounds)
            ]
            results[source.name] = {
                "sessions_jpg": sessions,
                "thumbnails": thumbnails(server, info_path, args),
                "info_path": info_path,
            }
        finally:
            server.stop()
    return results


# -------------------------------------------------------------------------------------------- machine


def wait_for_quiet(max_wait: float) -> dict[str, Any]:
    """Wait until other processes leave the machine idle (under 10% of a core over 2 s), at most
    ``max_wait`` seconds: a test suite running beside the benchmark would be measured with it."""
    cpus = set(range(os.cpu_count() or 1))
    started = time.monotonic()
    while True:
        before = procs.busy_seconds(cpus)
        time.sleep(2)
        share = (procs.busy_seconds(cpus) - before) / 2
        waited = time.monotonic() - started
        if share < 0.1 or waited >= max_wait:
            if share >= 0.1:
                _log(f"WARNING: other processes use {share:.0%} of a core; measuring anyway")
            return {"other_load_cores": share, "waited_seconds": waited}
        _log(f"the machine is busy ({share:.0%} of a core in other processes); waiting for it to be quiet")
        time.sleep(8)


def _output(command: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=60)
        return (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"


def machine_facts() -> dict[str, Any]:
    from importlib.metadata import version

    import PIL

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    node_versions = _output(
        ["node", "-e", "const s=require('sharp');console.log(JSON.stringify({sharp:s.versions.sharp,"
         "vips:s.versions.vips,iiif_processor:JSON.parse(require('fs').readFileSync("
         "'node_modules/iiif-processor/package.json')).version}))"],
        cwd=servers.NODE_DIR,
    )  # fmt: skip
    try:
        node = json.loads(node_versions)
    except json.JSONDecodeError:
        node = {"error": node_versions}
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": _output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "moto": version("moto"),
        "chalice": version("chalice"),
        "boto3": version("boto3"),
        "node": _output(["node", "--version"]),
        "node_peer": node,
        "iipimage": _output(["dpkg-query", "-W", "-f", "${Version}", "iipimage-server"]),
        "nginx": _output(["dpkg-query", "-W", "-f", "${Version}", "nginx"]),
        "spawn_fcgi": _output(["dpkg-query", "-W", "-f", "${Version}", "spawn-fcgi"]),
        "vips": _output(["vips", "--version"]),
        "git": _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(_output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])),
    }


# ----------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", help="image sizes WxH (default: 6000x4000 20000x15000)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run on {' and '.join(QUICK_SIZES)}")
    parser.add_argument("--rounds", type=int, default=1, help="warm viewer sessions after the cold one")
    parser.add_argument("--thumbs", type=int, default=60, help="requests in each thumbnail batch")
    parser.add_argument("--connections", type=int, default=6, help="parallel connections, as a browser")
    parser.add_argument("--servers", nargs="+", default=["vellum", "iiif-processor", "iipimage"])
    parser.add_argument("--server-cpus", default="1", help="taskset CPU list every server is pinned to")
    parser.add_argument("--client-cpus", default="0", help="CPU list of the load generator and ingest child")
    parser.add_argument(
        "--session-budget", type=float, default=150, help="seconds after which a session stops"
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "vellum-bench-iiif")
    parser.add_argument("--skip-osd-default", action="store_true", help="walk Vellum in jpg only")
    parser.add_argument("--skip-ingest", action="store_true", help="skip the isolated ingest measurement")
    parser.add_argument("--quiet-wait", type=float, default=900, help="seconds to wait for an idle machine")
    args = parser.parse_args()
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    args.work.mkdir(parents=True, exist_ok=True)
    os.sched_setaffinity(0, procs.cpu_list(args.client_cpus))
    began = time.perf_counter()

    results: dict[str, Any] = {
        "command": " ".join([".venv/bin/python -m bench.iiif", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine_facts(),
        "settings": {k: str(v) for k, v in vars(args).items()},
    }
    results["background_load_at_start"] = wait_for_quiet(args.quiet_wait)
    _log("sources")
    sources = [ensure_source(args.work, *_parse_size(size)) for size in sizes]
    results["sources"] = {
        s.name: {"width": s.width, "height": s.height, "bytes": s.path.stat().st_size, "sha256": s.sha256()}
        for s in sources
    }
    prep: dict[str, Any] = {}
    for source in sources:
        if "iiif-processor" in args.servers:
            path, seconds = servers.sharp_pyramid(args.work, source, args.server_cpus)
            prep[f"sharp {source.name}"] = {"seconds": seconds, "bytes": path.stat().st_size}
        if "iipimage" in args.servers:
            path, seconds = servers.vips_pyramid(args.work, source, args.server_cpus)
            prep[f"vips {source.name}"] = {"seconds": seconds, "bytes": path.stat().st_size}
    results["peer_sources"] = prep

    if "vellum" in args.servers:
        if not args.skip_ingest:
            _log("Vellum: ingest in a process of its own")
            results["ingest_isolated"] = isolated_ingest(sources, args)
        results["vellum"] = run_vellum(sources, args)
    if "iiif-processor" in args.servers:
        results["iiif-processor"] = run_peer(
            servers.IIIFProcessor("iiif-processor", work=args.work, cpus=args.server_cpus), sources, args
        )
    if "iipimage" in args.servers:
        results["iipimage"] = run_peer(
            servers.IIPImage("IIPImage", work=args.work, cpus=args.server_cpus), sources, args
        )
    results["total_seconds"] = time.perf_counter() - began

    (args.work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    report = markdown(results, [s.name for s in sources])
    (args.work / "results.md").write_text(report)
    print(report)
    _log(
        f"done in {results['total_seconds'] / 60:.1f} min: {args.work / 'results.json'}, "
        f"{args.work / 'results.md'}"
    )


if __name__ == "__main__":
    main()
