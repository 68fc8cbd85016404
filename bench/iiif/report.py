"""The benchmark's results as Markdown tables: every server side by side, from one run."""

from __future__ import annotations

import statistics
from typing import Any

SERVERS = (("vellum", "Vellum"), ("iiif-processor", "iiif-processor"), ("iipimage", "IIPImage"))
GB_IN_MIB = 1e9 / 2**20  # the goal says 1.5 GB: 1.5e9 bytes
SHORT_ROLES = {
    "API (local.api)": "API",
    "embedded AWS (moto)": "moto",
    "event pump (ingest)": "pump",
    "node (iiif-processor)": "node",
    "iipsrv.fcgi": "iipsrv",
    "nginx": "nginx",
}


def _n(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _rss(usage: dict[str, Any]) -> str:
    return ", ".join(f"{SHORT_ROLES.get(r, r)} {_n(v, 0)}" for r, v in usage["peak_rss_mib"].items())


def _cpu(usage: dict[str, Any]) -> str:
    total = _n(sum(usage["cpu_seconds"].values()))
    parts = ", ".join(
        f"{SHORT_ROLES.get(r, r)} {_n(v)}" for r, v in usage["cpu_seconds"].items() if v >= 0.05
    )
    return f"{total} ({parts})" if len(usage["cpu_seconds"]) > 1 and parts else total


def _cpu_per_request(usage: dict[str, Any], requests: int) -> str:
    if not requests:
        return ""
    roles = [(SHORT_ROLES.get(r, r), v) for r, v in usage["cpu_seconds"].items()]
    total = _n(1000 * sum(v for _, v in roles) / requests)
    if len(roles) == 1:
        return total
    parts = ", ".join(f"{name} {_n(1000 * v / requests)}" for name, v in roles)
    return f"{total} ({parts})"


def _sessions(results: dict[str, Any], image: str) -> list[tuple[str, str, dict[str, Any]]]:
    rows = []
    for key, label in SERVERS:
        data = results.get(key, {}).get(image)
        if not data:
            continue
        for session in data.get("sessions_jpg", []):
            rows.append((label, session["session"], session))
        for session in data.get("sessions_osd_default", []):
            rows.append((label, session["session"], session))
    return rows


def _warm_mp_s(sessions: list[dict[str, Any]]) -> float:
    warm = [s["mp_per_s"] for s in sessions if s["session"].startswith("warm")]
    return statistics.median(warm) if warm else float("nan")


def _cold_mp_s(sessions: list[dict[str, Any]]) -> float:
    return next((s["mp_per_s"] for s in sessions if s["session"] == "cold"), float("nan"))


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _sessions_table(results: dict[str, Any], image: str, write: Any) -> None:
    source = results["sources"][image]
    write(f"\n#### Viewer sessions: {image} ({source['width']}x{source['height']})\n")
    write(
        _row(
            "Server", "Session", "Tiles asked (px, format, scale factors)", "Requests (failed)",
            "MP delivered", "s", "**MP/s**", "req/s", "p50 ms", "p95 ms", "Server CPU ms per request",
            "Peak RSS MiB",
        )
    )  # fmt: skip
    write("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    rows = _sessions(results, image)
    for label, session_name, s in rows:
        partial = f" of {s['planned']:,} (stopped at the budget)" if s["partial"] else ""
        write(
            _row(
                label,
                session_name,
                f"{s['tile']} {s['format']}, 1-{s['scale_factors'][-1]}",
                f"{s['requests']:,}{partial} ({s['failures']})",
                _n(s["megapixels"]),
                _n(s["seconds"]),
                f"**{_n(s['mp_per_s'])}**",
                _n(s["requests_per_s"]),
                _n(s["p50_ms"]),
                _n(s["p95_ms"]),
                _cpu_per_request(s["usage"], s["requests"]),
                _rss(s["usage"]),
            )
        )
    for label, session_name, s in rows:
        if s["partial"]:
            levels = ", ".join(
                f"1/{factor}: {level['requests']}"
                for factor, level in reversed(s["per_scale_factor"].items())
            )
            write(
                f"\n{label} {session_name} ({s['format']}) stopped at the budget; tiles per level: {levels}."
            )
    for label, _, s in rows:
        f = s["first_failure"]
        if not f:
            continue
        if f["status"] == 200:
            what = f"(size {f['got']}, expected {f['expected']})"
        else:
            what = "`" + " ".join(f["body"].split())[:200] + "`"
        write(
            f"\n{label} {s['session']} ({s['format']}): {s['failures']} failed, statuses {s['statuses']}; "
            f"first: `GET {f['path']}` -> {f['status']} {what}"
        )


def _probes_table(results: dict[str, Any], images: list[str], write: Any) -> None:
    rows = [
        (image, p) for image in images for p in results.get("vellum", {}).get(image, {}).get("probes", [])
    ]
    if not rows:
        return
    write("\n#### Vellum: single requests outside the pyramid\n")
    write(_row("Image", "Request", "Status", "ms", "Peak RSS MiB", "Answer"))
    write("|---|---|---:|---:|---|---|")
    for image, p in rows:
        body = " ".join(p["body"].split())[:160] if p["status"] != 200 else f"{p['bytes']:,} bytes"
        params = p["path"].split("/", 4)[-1]
        write(_row(image, f"{p['probe']}: `{params}`", p["status"], _n(p["ms"], 0), _rss(p["usage"]), body))


def _thumbnails_table(results: dict[str, Any], images: list[str], write: Any) -> None:
    write("\n#### Thumbnails\n")
    write(
        _row(
            "Image", "Server", "`!256,256` first ms", "repeated req/s", "p50 ms", "p95 ms",
            "distinct `!n,n` req/s", "p50 ms", "p95 ms", "listed sizes fetched (ok)",
            "listed sizes beyond its own limits -> statuses", "Peak RSS MiB",
        )
    )  # fmt: skip
    write("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for image in images:
        for key, label in SERVERS:
            data = results.get(key, {}).get(image)
            if not data:
                continue
            t = data["thumbnails"]
            beyond = t["listed_sizes_beyond_own_limits"]
            beyond_text = "none"
            if beyond["sizes"]:
                sizes = ", ".join(p.rsplit("/full/", 1)[1].split("/")[0] for p in beyond["sizes"])
                beyond_text = f"{sizes} -> {beyond['statuses']}"
            listed = t["listed_sizes"]
            write(
                _row(
                    image,
                    label,
                    _n(t["first"]["p50_ms"]),
                    _n(t["repeated"]["requests_per_s"]),
                    _n(t["repeated"]["p50_ms"]),
                    _n(t["repeated"]["p95_ms"]),
                    _n(t["distinct"]["requests_per_s"]),
                    _n(t["distinct"]["p50_ms"]),
                    _n(t["distinct"]["p95_ms"]),
                    f"{listed['requests']} ({listed['requests'] - listed['failures']})",
                    beyond_text,
                    _rss(t["usage"]),
                )
            )


def _ingest_tables(results: dict[str, Any], images: list[str], write: Any) -> None:
    isolated = results.get("ingest_isolated")
    if isolated:
        write("\n#### Ingest (Vellum), in a process of its own on one core\n")
        phases = list(next(iter(isolated.values()))["phases"])
        extra = ["**total s**", "CPU s", "derivatives", "**peak RSS MiB**", "of which: S3 read s, decode s"]
        write(_row("Image", *(f"{p} s" for p in phases), *extra))
        write("|---|" + "---:|" * (len(phases) + 4) + "---|")
        for image in images:
            m = isolated.get(image)
            if m:
                write(
                    _row(
                        image,
                        *(_n(m["phases"][p]["seconds"], 2) for p in phases),
                        f"**{_n(m['seconds'], 2)}**",
                        _n(m["cpu_seconds"], 2),
                        f"{m['derivatives_written']:,}",
                        f"**{_n(m['peak_rss_mib'], 0)}**",
                        f"{_n(m['read_source_seconds'], 2)}, {_n(m['decode_seconds'], 2)}",
                    )
                )
    vellum = results.get("vellum", {})
    if any(image in vellum for image in images):
        write("\n#### Ingest (Vellum), in the running stack (all its processes on the server core)\n")
        write(
            _row(
                "Image", "upload s", "completion -> derivatives stored s", "pump peak RSS MiB",
                "CPU s during upload + ingest",
            )
        )  # fmt: skip
        write("|---|---:|---:|---:|---|")
        for image in images:
            if image in vellum:
                i = vellum[image]["ingest_in_stack"]
                write(
                    _row(
                        image,
                        _n(i["upload_seconds"], 2),
                        f"**{_n(i['completion_to_derivatives_stored_seconds'], 2)}**",
                        _n(i["usage"]["peak_rss_mib"]["event pump (ingest)"], 0),
                        _cpu(i["usage"]),
                    )
                )


def _foreign_load(node: Any, path: str = "") -> list[tuple[str, float]]:
    """Every measured phase in which other processes took over 5% of the servers' CPU."""
    found: list[tuple[str, float]] = []
    if isinstance(node, dict):
        usage = node.get("usage")
        if isinstance(usage, dict) and usage.get("seconds"):
            share = usage.get("foreign_cpu_seconds", 0.0) / usage["seconds"]
            if share > 0.05:
                found.append((path, share))
        for key, value in node.items():
            if key != "usage":
                found += _foreign_load(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            label = value.get("session", value.get("probe", index)) if isinstance(value, dict) else index
            found += _foreign_load(value, f"{path}[{label}]")
    return found


def markdown(results: dict[str, Any], images: list[str]) -> str:
    out: list[str] = []
    write = out.append
    foreign = _foreign_load({k: results[k] for k in ("vellum", "iiif-processor", "iipimage") if k in results})
    if foreign:
        write("\n**Warning: other processes used the server core during these phases:** ")
        write(", ".join(f"`{path}` {share:.0%}" for path, share in foreign) + "\n")
    for image in images:
        _sessions_table(results, image, write)
    _probes_table(results, images, write)
    _thumbnails_table(results, images, write)
    _ingest_tables(results, images, write)
    isolated = results.get("ingest_isolated")

    def goal(what: str, image: str, measured: str, met: bool) -> None:
        if "nan" in measured:
            write(
                f"| {what} | {image} | no warm session (the cold one stopped at the budget) | not measured |"
            )
        else:
            write(f"| {what} | {image} | {measured} | {'met' if met else 'not met'} |")

    write("\n#### Goals\n")
    write("| Goal | Image | Measured | Met? |")
    write("|---|---|---|---|")
    for image in images:
        v = results.get("vellum", {}).get(image, {})
        p = results.get("iiif-processor", {}).get(image, {})
        i = results.get("iipimage", {}).get(image, {})
        for kind, label in (
            ("sessions_jpg", "jpg, the pyramid"),
            ("sessions_osd_default", "as OpenSeadragon asks"),
        ):
            if kind not in v:
                continue
            partial = any(s["partial"] for s in v[kind])
            note = " (partial session)" if partial else ""
            if p:
                ratio = _warm_mp_s(v[kind]) / _warm_mp_s(p["sessions_jpg"])
                goal(
                    f"warm tiles >= 5x iiif-processor's MP/s ({label})",
                    image,
                    f"{_n(ratio, 2)}x{note}",
                    ratio >= 5,
                )
                ratio = _cold_mp_s(v[kind]) / _cold_mp_s(p["sessions_jpg"])
                goal(
                    f"cold tiles >= 1.5x iiif-processor's MP/s ({label})",
                    image,
                    f"{_n(ratio, 2)}x{note}",
                    ratio >= 1.5,
                )
            if i:
                ratio = _warm_mp_s(v[kind]) / _warm_mp_s(i["sessions_jpg"])
                goal(
                    f"warm tiles on par with IIPImage (>= 0.8x) ({label})",
                    image,
                    f"{_n(ratio, 2)}x{note}",
                    ratio >= 0.8,
                )
    if isolated:
        first, last = images[0], images[-1]
        if first in isolated:
            seconds = isolated[first]["seconds"]
            goal("ingest of a 24 MP JPEG < 3 s on one core", first, f"{_n(seconds, 2)} s", seconds < 3)
        if last in isolated:
            peak = isolated[last]["peak_rss_mib"]
            measured = f"{_n(peak, 0)} MiB ({_n(peak * 2**20 / 1e9, 2)} GB)"
            goal("peak RSS < 1.5 GB for a 300 MP source", last, measured, peak < 1.5 * GB_IN_MIB)

    prep = results.get("peer_sources", {})
    if prep:
        write("\n#### The peers' sources (pyramidal TIFFs, 256 px JPEG tiles q85, made on the server core)\n")
        write("| TIFF | bytes | made in s (blank: cached from an earlier run) |")
        write("|---|---:|---:|")
        for name, p in prep.items():
            write(f"| {name} | {p['bytes']:,} | {'' if p['seconds'] is None else _n(p['seconds'], 2)} |")
    return "\n".join(out) + "\n"
