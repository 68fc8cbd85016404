"""Stopping the local API lets the requests under way finish, and takes no new ones."""

from __future__ import annotations

import socket
import threading
import time

import requests
from chalice import Chalice
from chalice.config import Config

from local.api import make_server, serve_until_stopped


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def refuses_connections(port: int) -> bool:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_a_stop_lets_the_request_under_way_answer_then_refuses_new_connections() -> None:
    app = Chalice("stopping")
    started = threading.Event()

    @app.route("/slow")
    def slow() -> dict[str, bool]:
        started.set()
        time.sleep(1.5)  # a completion hashing its file, say
        return {"done": True}

    port = free_port()
    server = make_server(app, Config.create(chalice_app=app), port)
    left: list[int] = []
    serving = threading.Thread(target=lambda: left.append(serve_until_stopped(server, 10)))
    serving.start()
    answers: list[requests.Response] = []
    asking = threading.Thread(
        target=lambda: answers.append(requests.get(f"http://127.0.0.1:{port}/slow", timeout=10))
    )
    asking.start()
    assert started.wait(5)

    server.shutdown()  # what Ctrl-C does
    assert refuses_connections(port)  # while the slow request is still under way
    asking.join(10)
    serving.join(10)

    assert started.is_set() and [(a.status_code, a.json()) for a in answers] == [(200, {"done": True})]
    assert left == [0] and not serving.is_alive()


def test_a_request_longer_than_the_drain_is_left_and_counted() -> None:
    app = Chalice("stuck")
    started = threading.Event()

    @app.route("/stuck")
    def stuck() -> dict[str, bool]:
        started.set()
        time.sleep(3)
        return {}

    port = free_port()
    server = make_server(app, Config.create(chalice_app=app), port)
    left: list[int] = []
    serving = threading.Thread(target=lambda: left.append(serve_until_stopped(server, 0.2)))
    serving.start()
    threading.Thread(
        target=lambda: requests.get(f"http://127.0.0.1:{port}/stuck", timeout=10), daemon=True
    ).start()
    assert started.wait(5)

    server.shutdown()
    serving.join(5)

    assert left == [1]
