"""The three servers under test, each started on loopback, pinned to the servers' CPU set.

- Vellum: the processes `make run` starts (local.run): the embedded AWS (moto), the API (the Chalice
  app as `chalice local` serves it) and the event pump that runs ingest, with the same environment.
- iiif-processor: node/server.js on pyramidal TIFFs made with sharp.
- IIPImage: Debian's iipsrv.fcgi (spawn-fcgi) behind Debian's nginx, on pyramidal TIFFs made with
  `vips tiffsave --tile --pyramid`.
"""

# The benchmark starts the servers it measures, with commands it builds itself.
# ruff: noqa: S603

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from bench.iiif import procs
from bench.iiif.sources import Source
from local.environment import ROOT, free_port

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
PEER_TILE = 256  # the TIFF tile both peers' pyramids are cut in (what IIPImage then advertises)
PEER_TIFF_QUALITY = 85  # the TIFFs' JPEG quality (85 and below: libvips subsamples chroma, as photos are)


@dataclass
class Server:
    name: str
    port: int = 0
    cpus: str = "1"  # taskset CPU list
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    host = "127.0.0.1"

    def roles(self) -> dict[str, list[int]]:
        return {role: [p.pid] for role, p in self.processes.items() if p.poll() is None}

    def meter(self) -> procs.Meter:
        return procs.Meter(self.roles, procs.cpu_list(self.cpus))

    def info_path(self, source: Source) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            procs.stop(process)
        self.processes.clear()


# ---------------------------------------------------------------------------------------------- Vellum


@dataclass
class Vellum(Server):
    work: Path = Path()
    aws_port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    bucket: str = ""
    info_paths: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        from chalicelib.auth.tokens import issue_local_token
        from local.embedded_aws import READY_FILE
        from local.environment import service_environment

        self.port, self.aws_port = free_port(), free_port()
        state = self.work / "vellum-state"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        self.env = service_environment(self.aws_port, self.port, state)
        self.env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log file as they are written
        python = sys.executable
        aws = [python, "-m", "local.embedded_aws", "--port", str(self.aws_port), "--state", str(state)]
        self.log = self.work / "vellum.log"
        self.log.write_text("")
        start = lambda *cmd: procs.start(procs.pinned(self.cpus, cmd), cwd=ROOT, env=self.env, log=self.log)  # noqa: E731
        self.processes["embedded AWS (moto)"] = start(*aws)
        procs.wait_until(lambda: (state / READY_FILE).exists(), "the embedded AWS", 120)
        self.processes["API (local.api)"] = start(python, "-m", "local.api", "--port", str(self.port))
        self.processes["event pump (ingest)"] = start(python, "-m", "local.pump", "--retry-delay", "0")
        procs.wait_until(self._healthy, "Vellum's API", 120, every=0.3)
        self.token = issue_local_token(self.env["VELLUM_LOCAL_TOKEN_SECRET"], "bench", [])
        answer = requests.post(
            f"{self.url}/files", json={"public_read": True}, headers=self._auth, timeout=30
        )
        answer.raise_for_status()
        self.bucket = answer.json()["id"]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        # The API and the pump as local.run stops them; the embedded AWS holds only this run's
        # throwaway state, so it is killed rather than left to write its last snapshot.
        for role in ("event pump (ingest)", "API (local.api)"):
            procs.stop(self.processes.get(role))
        procs.stop(self.processes.get("embedded AWS (moto)"), sig=signal.SIGKILL)
        self.processes.clear()

    def upload(self, source: Source) -> tuple[str, float]:
        """Upload through the files API (presigned PUTs to the embedded S3); return the object's URL
        and the wall-clock time at which the completion answered."""
        key = base64.urlsafe_b64encode(f"bench/{source.path.name}".encode()).rstrip(b"=").decode()
        target = f"{self.url}/files/{self.bucket}/{key}"
        size = source.path.stat().st_size
        upload = requests.post(f"{target}?uploads", json={"size": size}, headers=self._auth, timeout=60)
        upload.raise_for_status()
        plan = upload.json()
        parts = (
            plan.get("parts")
            or requests.get(
                f"{target}?uploadId={plan['id']}&partNumbers=1-{plan['part_count']}",
                headers=self._auth,
                timeout=60,
            ).json()["parts"]
        )
        with source.path.open("rb") as file:
            for part in parts:
                file.seek(((part["part_number"] or 1) - 1) * plan["part_size"])
                requests.put(
                    part["url"], data=file.read(part["size"]), headers=part["headers"], timeout=300
                ).raise_for_status()
        done = requests.post(f"{target}?uploadId={plan['id']}", headers=self._auth, timeout=300)
        completed = time.time()
        done.raise_for_status()
        return target, completed

    def wait_for_derivatives(
        self, target: str, since: float, timeout: float = 900
    ) -> tuple[float, dict[str, Any]]:
        """Wait for the pump's "image derivatives stored" line logged after ``since``; return the time
        it was logged at and the record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if '"image derivatives stored"' not in line:
                    continue
                record = json.loads(line)
                logged = datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
                if logged >= since - 0.001:
                    meta = requests.get(f"{target}?meta", headers=self._auth, timeout=30).json()
                    self.info_paths[target] = meta["links"]["iiif_info"].split(self.url, 1)[1]
                    return logged, record
            failed = '"ingest gave up"' in self.log.read_text(errors="replace")
            if failed:
                raise RuntimeError(f"ingest failed; see {self.log}")
            time.sleep(0.02)
        raise TimeoutError(f"no derivatives after {timeout:.0f} s; see {self.log}")


# -------------------------------------------------------------------------------------- iiif-processor


def sharp_pyramid(work: Path, source: Source, cpus: str) -> tuple[Path, float | None]:
    """The pyramidal TIFF for iiif-processor (cached), and how long sharp took when it was made now."""
    folder = work / "iiif-processor"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{source.name}.tif"
    stamp = folder / f"{source.name}.source"
    if out.exists() and stamp.exists() and stamp.read_text() == source.path.name:
        return out, None
    command = [
        "node",
        str(NODE_DIR / "make_pyramid.js"),
        str(source.path),
        str(out),
        str(PEER_TILE),
        str(PEER_TIFF_QUALITY),
    ]
    made = subprocess.run(procs.pinned(cpus, command), check=True, capture_output=True, text=True)
    stamp.write_text(source.path.name)
    return out, float(json.loads(made.stdout.strip().splitlines()[-1])["seconds"])


@dataclass
class IIIFProcessor(Server):
    work: Path = Path()

    def start(self) -> None:
        self.port = free_port()
        log = self.work / "iiif-processor.log"
        log.write_text("")
        command = [
            "node",
            str(NODE_DIR / "server.js"),
            "--port",
            str(self.port),
            "--dir",
            str(self.work / "iiif-processor"),
        ]
        self.processes["node (iiif-processor)"] = procs.start(
            procs.pinned(self.cpus, command), cwd=NODE_DIR, log=log
        )
        procs.wait_until(lambda: "serving" in log.read_text(), "the iiif-processor peer", 120)

    def info_path(self, source: Source) -> str:
        return f"/iiif/3/{source.name}/info.json"


# -------------------------------------------------------------------------------------------- IIPImage

IIPSRV = Path("/usr/lib/iipimage-server/iipsrv.fcgi")

NGINX_CONF = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  fastcgi_temp_path {dir}/fastcgi;
  proxy_temp_path {dir}/proxy;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location /iiif/ {{
      fastcgi_pass 127.0.0.1:{fcgi_port};
      fastcgi_param PATH_INFO $fastcgi_script_name;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param SERVER_NAME $host;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param HTTP_HOST $http_host;
    }}
  }}
}}
"""


def vips_pyramid(work: Path, source: Source, cpus: str) -> tuple[Path, float | None]:
    """The pyramidal TIFF for IIPImage (cached), and how long `vips tiffsave` took when made now."""
    folder = work / "iipimage"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{source.name}.tif"
    stamp = folder / f"{source.name}.source"
    if out.exists() and stamp.exists() and stamp.read_text() == source.path.name:
        return out, None
    tile = str(PEER_TILE)
    command = ["vips", "tiffsave", str(source.path), str(out), "--tile", "--pyramid", "--compression", "jpeg",
               "--Q", str(PEER_TIFF_QUALITY), "--tile-width", tile, "--tile-height", tile]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(procs.pinned(cpus, command), check=True)
    seconds = time.perf_counter() - started
    stamp.write_text(source.path.name)
    return out, seconds


@dataclass
class IIPImage(Server):
    work: Path = Path()
    nginx_dir: Path = Path()

    def start(self) -> None:
        self.port, fcgi_port = free_port(), free_port()
        self.nginx_dir = self.work / "nginx"
        shutil.rmtree(self.nginx_dir, ignore_errors=True)
        self.nginx_dir.mkdir(parents=True)
        conf = self.nginx_dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.nginx_dir, port=self.port, fcgi_port=fcgi_port))
        env = {
            **os.environ,
            "FILESYSTEM_PREFIX": f"{self.work / 'iipimage'}/",
            "URI_MAP": "iiif=>IIIF",
            "JPEG_QUALITY": "85",  # Vellum's tile quality (iipsrv's default is 75)
            "CORS": "*",
            "VERBOSITY": "1",
            "LOGFILE": str(self.nginx_dir / "iipsrv.log"),
        }
        log = self.work / "iipimage.log"
        log.write_text("")
        fcgi = ["spawn-fcgi", "-n", "-a", "127.0.0.1", "-p", str(fcgi_port), "--", str(IIPSRV)]
        self.processes["iipsrv.fcgi"] = procs.start(procs.pinned(self.cpus, fcgi), env=env, log=log)
        nginx = ["nginx", "-c", str(conf), "-p", str(self.nginx_dir)]
        self.processes["nginx"] = procs.start(procs.pinned(self.cpus, nginx), log=log)
        procs.wait_until(self._ready, "nginx and iipsrv", 60, every=0.2)

    def _ready(self) -> bool:
        for process in self.processes.values():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{process.args} exited: {(self.work / 'iipimage.log').read_text()[-2000:]}"
                )
        try:
            probe = next((self.work / "iipimage").glob("*.tif")).name
            return (
                requests.get(f"http://{self.host}:{self.port}/iiif/{probe}/info.json", timeout=5).status_code
                == 200
            )
        except requests.ConnectionError:
            return False

    def roles(self) -> dict[str, list[int]]:
        roles = {}
        for role, process in self.processes.items():
            if process.poll() is None:
                roles[role] = procs.descendants(process.pid)  # nginx: its master and its worker
        return roles

    def info_path(self, source: Source) -> str:
        return f"/iiif/{source.name}.tif/info.json"

    def stop(self) -> None:
        procs.stop(self.processes.get("nginx"), sig=signal.SIGQUIT)  # nginx's graceful shutdown
        procs.stop(self.processes.get("iipsrv.fcgi"))
        self.processes.clear()
