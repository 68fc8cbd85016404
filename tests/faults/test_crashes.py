"""Faults injected into the running stack: processes killed mid-step, and what must hold after.

Each test starts its own `make run` stack. Processes die where Lambda functions and machines
die: the embedded AWS by SIGKILL while uploads run, the API or the event pump at a chosen point
of Vellum's code (`inject/sitecustomize.py`). Then the stack is asked, over HTTP and through
the embedded AWS's own APIs, whether anything acknowledged was lost or left half-written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from local.environment import ROOT
from local.run import PIDS_FILE
from tests.e2e.test_uploads_over_http import DATA_BUCKET, PART_SIZE, FilesClient, chunk, put_part
from tests.stack import Stack, make_token, new_stack

pytestmark = pytest.mark.e2e

INJECT = Path(__file__).parent / "inject"
FILES_TABLE = "vellum-local-files"
LATER = 3600  # past the completion lease and the ingest function's timeout


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def start(**fault: str) -> Stack:
        env = {"PYTHONPATH": str(INJECT), "VELLUM_FAULT_MARKER": str(tmp_path / "fault-fired")}
        env |= {f"VELLUM_FAULT_{name.upper()}": value for name, value in fault.items()}
        stack = new_stack(tmp_path, env)
        stack.start()
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()


def fault_fired(stack: Stack) -> bool:
    return Path(stack.env["VELLUM_FAULT_MARKER"]).exists()


def wait_until(condition: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def restarted(stack: Stack, role: str, times: int) -> bool:
    return stack.log.read_text(errors="replace").count(f"{role} exited") >= times


def upload(client: FilesClient, bucket: str, key: str, data: bytes) -> dict[str, Any] | None:
    """One single-PUT upload through the API; its version, or None if any step failed."""
    try:
        initiated = client.session.post(
            f"{client.object_url(bucket, key)}?uploads", json={"size": len(data)}, timeout=10
        )
        if initiated.status_code != 201:
            return None
        part = initiated.json()["parts"][0]
        if requests.put(part["url"], data=data, headers=part["headers"], timeout=10).status_code != 200:
            return None
        completed = client.complete(bucket, key, initiated.json()["id"])
        return completed.json() if completed.status_code == 200 else None  # type: ignore[no-any-return]
    except requests.RequestException:
        return None


def files_table(stack: Stack) -> list[dict[str, Any]]:
    dynamodb = stack.client("dynamodb")
    return [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=FILES_TABLE)
        for item in page["Items"]
    ]


def data_keys(stack: Stack, prefix: str = "data/") -> list[str]:
    s3 = stack.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=DATA_BUCKET, Prefix=prefix)
    return [entry["Key"] for page in pages for entry in page.get("Contents", [])]


def assert_consistent(stack: Stack) -> None:
    """Every bucket's counters equal its versions and open reservations; no object nothing names."""
    items = files_table(stack)
    value = lambda item, name: item.get(name, {}).get("N") or item.get(name, {}).get("S")  # noqa: E731
    sizes: Counter[str] = Counter()
    reserved: Counter[str] = Counter()
    named = set()
    for item in items:
        sk = item["sk"]["S"]
        if sk.startswith("V#") and "file_id" in item:
            sizes[item["pk"]["S"]] += int(value(item, "size"))
        if sk.startswith("U#"):
            named.add(item["s3_key"]["S"])
            if value(item, "state") in ("pending", "completing"):
                reserved[item["pk"]["S"]] += int(value(item, "reserved") or 0)
        if "s3_key" in item:
            named.add(item["s3_key"]["S"])
    buckets = [item for item in items if "used" in item and "owner" in item]
    assert buckets
    for bucket in buckets:
        pk = bucket["pk"]["S"]
        assert (int(value(bucket, "size")), int(value(bucket, "used"))) == (
            sizes[pk],
            sizes[pk] + reserved[pk],
        ), pk
    assert [key for key in data_keys(stack) if key not in named] == []


def test_a_kill_9_of_the_embedded_aws_while_uploads_run_loses_no_acknowledged_upload(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack()
    client = FilesClient(stack.api, make_token(stack, "alice"))
    buckets = [client.new_bucket() for _ in range(3)]
    acknowledged: dict[tuple[str, str], tuple[str, str]] = {}  # (bucket, key) -> (version, sha256)
    stop = threading.Event()

    def uploader(number: int) -> None:
        for attempt in range(10**6):
            if stop.is_set():
                return
            bucket, key = buckets[attempt % len(buckets)], f"u{number}/{attempt}.bin"
            data = os.urandom(1 + int.from_bytes(os.urandom(3)) % (256 * 1024))
            if (version := upload(client, bucket, key, data)) is not None:
                acknowledged[bucket, key] = (version["version_id"], hashlib.sha256(data).hexdigest())

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(acknowledged) >= 30, "30 acknowledged uploads")
    aws_pid = json.loads((stack.state / PIDS_FILE).read_text())["pids"][0]
    os.kill(aws_pid, signal.SIGKILL)  # no last save: only what reached the disk before each answer
    assert stack.process is not None
    stack.process.wait(timeout=60)  # without the embedded AWS, `make run` stops
    stop.set()
    for thread in threads:
        thread.join()
    stack.process = None

    stack.start()

    assert len(acknowledged) >= 30
    for (bucket, key), (version_id, digest) in acknowledged.items():
        assert hashlib.sha256(client.download(bucket, key, version_id)).hexdigest() == digest, key
    assert_consistent(stack)


def test_an_api_killed_after_s3_assembled_the_file_is_recorded_by_a_retry_after_the_lease(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack(
        role="local.api",
        exit_after="chalicelib.files.storage:complete_multipart",
        later_seconds=str(LATER),
    )
    client = FilesClient(stack.api, make_token(stack, "alice"))
    bucket, data = client.new_bucket(), os.urandom(2 * PART_SIZE + 1234)
    upload = client.initiate(bucket, "assembled.bin", len(data), PART_SIZE)
    signed = client.sign(bucket, "assembled.bin", upload["id"], f"1-{upload['part_count']}")
    parts = [
        {"part_number": p["part_number"], "etag": put_part(p, chunk(data, p["part_number"]))} for p in signed
    ]

    with pytest.raises(requests.ConnectionError):  # the API died before it answered
        client.complete(bucket, "assembled.bin", upload["id"], parts)
    assert fault_fired(stack)
    wait_until(lambda: restarted(stack, "local.api", 1), "the API to start again")
    assert wait_until(lambda: data_keys(stack), "the assembled object")  # S3 holds it, nothing records it

    retried = wait_until(
        lambda: stack_answer(lambda: client.complete(bucket, "assembled.bin", upload["id"], parts)),
        "the restarted API",
    )

    assert retried.status_code == 200, retried.text
    assert client.download(bucket, "assembled.bin") == data
    assert client.bucket(bucket)["size"] == len(data)
    assert_consistent(stack)


def test_a_completion_recorded_but_never_answered_is_answered_with_its_version_on_retry(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack(role="local.api", exit_after="chalicelib.files.completion:_record")
    client = FilesClient(stack.api, make_token(stack, "alice"))
    bucket, data = client.new_bucket(), b"recorded once"
    initiated = client.initiate(bucket, "once.txt", len(data))
    put_part(initiated["parts"][0], data)

    with pytest.raises(requests.ConnectionError):
        client.complete(bucket, "once.txt", initiated["id"])
    assert fault_fired(stack)
    retried = wait_until(
        lambda: stack_answer(lambda: client.complete(bucket, "once.txt", initiated["id"])),
        "the restarted API",
    )

    assert retried.status_code == 200, retried.text
    listed = client.session.get(f"{client.api}/files/{bucket}?versions", timeout=10).json()["contents"]
    assert [version["version_id"] for version in listed] == [retried.json()["version_id"]]
    assert client.bucket(bucket)["size"] == len(data)  # counted once
    assert_consistent(stack)


def test_a_pump_killed_mid_ingest_leaves_a_file_the_recovery_job_finishes_with_every_derivative(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack(
        role="local.pump",
        exit_after="chalicelib.files.storage:put_derivative:5",
        later_seconds=str(LATER),
    )
    client = FilesClient(stack.api, make_token(stack, "alice"))
    bucket, image = client.new_bucket(), _jpeg(3000, 2000)

    for key in ("killed.jpg", "control.jpg"):
        initiated = client.initiate(bucket, key, len(image))
        put_part(initiated["parts"][0], image)
        assert client.complete(bucket, key, initiated["id"]).status_code == 200
        if key == "killed.jpg":
            wait_until(lambda: fault_fired(stack) and restarted(stack, "local.pump", 1), "the pump to die")
            assert _ingest(client, bucket, key)["state"] == "pending"  # not `done` with 5 derivatives
            _run_job(stack, "monitor_integrity")  # an hour later, as its schedule would run it

    for key in ("killed.jpg", "control.jpg"):
        wait_until(lambda key=key: _ingest(client, bucket, key)["state"] == "done", f"{key} ingested")
    per_file = Counter(key.split("/")[1] for key in data_keys(stack, "derivatives/"))
    assert len(per_file) == 2 and len(set(per_file.values())) == 1, per_file  # as many as the control's
    assert min(per_file.values()) > 5
    assert_consistent(stack)


def stack_answer(call: Callable[[], requests.Response]) -> requests.Response | None:
    try:
        return call()
    except requests.ConnectionError:
        return None


def _jpeg(width: int, height: int) -> bytes:
    picture = Image.effect_noise((width, height), 40).convert("RGB")
    picture.paste((200, 90, 160), (0, 0, width // 2, height // 2))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _ingest(client: FilesClient, bucket: str, key: str) -> dict[str, Any]:
    answer = client.session.get(f"{client.object_url(bucket, key)}?meta", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["ingest"]  # type: ignore[no-any-return]


def _run_job(stack: Stack, name: str) -> None:
    api_port, aws_port = (url.rsplit(":", 1)[1] for url in (stack.api, stack.aws_endpoint))
    environment = {**stack.env, "PATH": "/usr/bin:/bin", "PORT": api_port, "VELLUM_AWS_PORT": aws_port}
    environment["PYTHONPATH"] = os.pathsep.join((str(ROOT), str(INJECT)))  # the injections import chalicelib
    environment["VELLUM_LOCAL_STATE"] = str(stack.state)
    ran = subprocess.run(
        [sys.executable, "-m", "local.job", name], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
