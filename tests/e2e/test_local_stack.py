"""`make run`'s stack, over real HTTP: health, identity, S3 events flowing, data kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from local.embedded_aws import READY_FILE
from local.environment import ROOT
from local.run import PIDS_FILE
from tests.stack import Stack, make_token

pytestmark = pytest.mark.e2e


def test_health_reports_every_component_ok(stack: Stack) -> None:
    response = requests.get(f"{stack.api}/health", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "components": {"s3": "ok", "dynamodb": "ok", "sqs": "ok"}}


def test_a_token_from_make_token_is_accepted(stack: Stack) -> None:
    token = make_token(stack, "alice", admin=True)

    response = requests.get(f"{stack.api}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert response.json() == {"anonymous": False, "sub": "alice", "roles": ["admin"], "admin": True}


def test_a_tampered_token_gets_a_401_json_error(stack: Stack) -> None:
    header, payload, signature = make_token(stack, "alice").split(".")
    forged = f"{header}.{payload}x.{signature}"

    response = requests.get(f"{stack.api}/me", headers={"Authorization": f"Bearer {forged}"}, timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_a_new_object_in_s3_flows_through_sqs_to_the_ingest_handler(stack: Stack) -> None:
    key = f"data/e2e {time.time_ns()}/ünï+cödé%.txt"

    stack.client("s3").put_object(Bucket="vellum-local-data", Key=key, Body=b"12345")

    record = stack.wait_for_log_record(message="object landed", key=key)
    assert record["size"] == 5


def test_data_survives_a_restart_and_make_reset_wipes_it(stack: Stack) -> None:
    stack.client("s3").put_object(Bucket="vellum-local-data", Key="data/kept", Body=b"still here")
    stack.client("dynamodb").put_item(
        TableName="vellum-local-records", Item={"pk": {"S": "record#1"}, "sk": {"S": "meta"}}
    )

    stack.stop()
    stack.start()

    assert (
        stack.client("s3").get_object(Bucket="vellum-local-data", Key="data/kept")["Body"].read()
        == b"still here"
    )
    item = stack.client("dynamodb").get_item(
        TableName="vellum-local-records", Key={"pk": {"S": "record#1"}, "sk": {"S": "meta"}}
    )
    assert item["Item"]["pk"] == {"S": "record#1"}

    stack.stop()
    subprocess.run(
        ["make", "reset", f"VELLUM_LOCAL_STATE={stack.state}"], cwd=ROOT, check=True, capture_output=True
    )
    stack.start()

    assert stack.client("s3").list_objects_v2(Bucket="vellum-local-data").get("KeyCount") == 0
    assert "Item" not in stack.client("dynamodb").get_item(
        TableName="vellum-local-records", Key={"pk": {"S": "record#1"}, "sk": {"S": "meta"}}
    )


def test_an_unknown_path_is_a_404_json_error_as_the_deployed_gateway_answers(stack: Stack) -> None:
    response = requests.get(f"{stack.api}/no/such/route", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "No route matches this path."}


def test_a_wrong_method_is_a_405_json_error(stack: Stack) -> None:
    response = requests.delete(f"{stack.api}/health", timeout=10)

    assert response.status_code == 405
    assert response.json() == {"status": 405, "message": "Unsupported method: DELETE"}


def test_a_ready_file_left_by_a_killed_run_is_not_taken_for_the_new_embedded_aws(stack: Stack) -> None:
    stack.client("s3").put_object(Bucket="vellum-local-data", Key="data/before-the-crash", Body=b"kept")
    stack.stop()
    (stack.state / READY_FILE).write_text("1")  # what kill -9 leaves behind

    stack.start()

    # The API and the pump started only once the embedded AWS was restored and wired.
    assert stack.process is not None and stack.process.poll() is None
    key = f"data/after {time.time_ns()}.txt"
    stack.client("s3").put_object(Bucket="vellum-local-data", Key=key, Body=b"12345")
    assert stack.wait_for_log_record(message="object landed", key=key)["size"] == 5
    kept = stack.client("s3").get_object(Bucket="vellum-local-data", Key="data/before-the-crash")
    assert kept["Body"].read() == b"kept"


def test_make_job_runs_a_scheduled_handler_now_against_the_running_stack(stack: Stack) -> None:
    api_port, aws_port = (url.rsplit(":", 1)[1] for url in (stack.api, stack.aws_endpoint))
    environment = {"PATH": "/usr/bin:/bin", "PORT": api_port, "VELLUM_AWS_PORT": aws_port}
    environment["VELLUM_LOCAL_STATE"] = str(stack.state)

    ran = subprocess.run(
        ["make", "job", "NAME=monitor_integrity"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    unknown = subprocess.run(
        ["make", "job", "NAME=nope"], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert ran.returncode == 0, ran.stderr
    assert "integrity monitoring ran" in ran.stdout + ran.stderr
    assert unknown.returncode != 0 and "housekeeping" in unknown.stderr
    assert "monitor_integrity" in (stack.state / "schedules.json").read_text()


def child_pids(stack: Stack) -> list[int]:
    return [int(pid) for pid in json.loads((stack.state / PIDS_FILE).read_text())["pids"]]


def test_a_crashed_pump_is_started_again_alone_and_goes_on_ingesting(stack: Stack) -> None:
    aws_pid, api_pid, pump_pid = child_pids(stack)

    started = stack.log.read_text().count("event pump running")
    os.kill(pump_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while stack.log.read_text().count("event pump running") == started and time.monotonic() < deadline:
        time.sleep(0.2)
    # A message landing during the killed pump's last long poll (1 s) is handed to that dead
    # receive and comes back only after the visibility timeout, as on SQS: send after it.
    time.sleep(1.5)

    assert child_pids(stack)[:2] == [aws_pid, api_pid]  # the others went on
    key = f"data/after the crash {time.time_ns()}.txt"
    stack.client("s3").put_object(Bucket="vellum-local-data", Key=key, Body=b"123")
    assert stack.wait_for_log_record(message="object landed", key=key)["size"] == 3


def test_the_children_die_with_make_run_even_by_kill_9_and_the_next_run_starts(stack: Stack) -> None:
    pids = child_pids(stack)
    assert stack.process is not None
    stack.process.kill()
    stack.process.wait()

    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    stack.process = None

    stack.start()  # the ports are free again, and the pids left in the state directory are dead
    assert requests.get(f"{stack.api}/health", timeout=10).status_code == 200


def test_make_token_without_the_state_directory_signs_for_the_running_stack(stack: Stack) -> None:
    # The stack was started with its own VELLUM_LOCAL_STATE; `make token` is run without it.
    api_port = stack.api.rsplit(":", 1)[1]
    made = subprocess.run(
        ["make", "token", "USER=erin"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PORT": api_port},
        capture_output=True,
        text=True,
    )

    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    me = requests.get(f"{stack.api}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert (me.status_code, me.json().get("sub")) == (200, "erin")
