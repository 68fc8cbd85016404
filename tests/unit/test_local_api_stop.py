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


class SlowApp:
    """A local API whose one route takes ``seconds``, served until stopped with ``drain`` seconds."""

    def __init__(self, seconds: float, drain: float) -> None:
        app = Chalice("slow")
        self.started = threading.Event()

        @app.route("/slow")
        def slow() -> dict[str, bool]:
            self.started.set()
            time.sleep(seconds)  # a completion hashing its file, say
            return {"done": True}

        self.port = free_port()
        self.server = make_server(app, Config.create(chalice_app=app), self.port)
        self.left: list[int] = []
        self.serving = threading.Thread(
            target=lambda: self.left.append(serve_until_stopped(self.server, drain))
        )
        self.serving.start()
        self.answers: list[requests.Response] = []
        self.asking = threading.Thread(target=self._ask, daemon=True)
        self.asking.start()
        assert self.started.wait(5)

    def _ask(self) -> None:
        self.answers.append(requests.get(f"http://127.0.0.1:{self.port}/slow", timeout=10))


def test_a_stop_lets_the_request_under_way_answer_then_refuses_new_connections() -> None:
    api = SlowApp(seconds=1.5, drain=10)

    api.server.shutdown()  # what Ctrl-C does
    assert refuses_connections(api.port)  # while the slow request is still under way
    api.asking.join(10)
    api.serving.join(10)

    assert [(a.status_code, a.json()) for a in api.answers] == [(200, {"done": True})]
    assert api.left == [0] and not api.serving.is_alive()


def test_a_request_longer_than_the_drain_is_left_and_counted() -> None:
    api = SlowApp(seconds=3, drain=0.2)

    api.server.shutdown()
    api.serving.join(5)

    assert api.left == [1] and api.answers == []
