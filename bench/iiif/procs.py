"""Server processes: starting them pinned to a CPU set, and reading what they used from /proc.

Peak RSS is the kernel's high-water mark (VmHWM), reset before each measured phase by writing 5 to
/proc/PID/clear_refs (Linux 4.0+), so each phase reports its own peak. CPU time is utime + stime of
the whole process (all threads), read before and after a phase.
"""

# The benchmark starts the servers it measures, with commands it builds itself.
# ruff: noqa: S603

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pinned(cpus: str, command: Sequence[str]) -> list[str]:
    return ["taskset", "-c", cpus, *command]


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def status_kib(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int) -> None:
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def busy_seconds(cpus: set[int]) -> float:
    """CPU time spent on ``cpus`` by anything (user, nice, system, irq, softirq, steal), from /proc/stat."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in values[:8])
            total += user + nice + system + irq + softirq + steal
    return total / CLOCK_TICKS


def cpu_list(text: str) -> set[int]:
    """A taskset CPU list ("1", "0,2", "2-3") as a set."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"


@dataclass
class Usage:
    """What a set of named processes used during one phase."""

    seconds: float
    cpu: dict[str, float]  # CPU seconds by role
    peak_rss_mib: dict[str, float]  # VmHWM by role
    foreign_cpu: float = 0.0  # CPU seconds other processes took on the servers' CPUs meanwhile

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu.values())


@dataclass
class Meter:
    """Measures the processes of a server, by role (e.g. "api", "embedded AWS", "ingest pump")."""

    roles: Callable[[], dict[str, list[int]]]
    cpus: set[int] = field(default_factory=set)  # the servers' CPUs, watched for other load
    _start: float = 0.0
    _cpu: dict[str, float] = field(default_factory=dict)
    _busy: float = 0.0

    def start(self) -> None:
        roles = self.roles()
        for pids in roles.values():
            for pid in pids:
                reset_peak(pid)
        self._cpu = {role: sum(cpu_seconds(pid) for pid in pids) for role, pids in roles.items()}
        self._busy = busy_seconds(self.cpus)
        self._start = time.perf_counter()

    def stop(self) -> Usage:
        seconds = time.perf_counter() - self._start
        roles = self.roles()
        return Usage(
            seconds=seconds,
            cpu={
                role: sum(cpu_seconds(p) for p in pids) - self._cpu.get(role, 0.0)
                for role, pids in roles.items()
            },
            # Processes of one role (nginx's master and worker) add up: they are one server's memory.
            peak_rss_mib={
                role: sum(status_kib(p, "VmHWM") for p in pids) / 1024 for role, pids in roles.items()
            },
        )


def start(
    command: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a process this benchmark started (by its own pid), killing it if it does not exit in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(condition: Callable[[], bool], what: str, timeout: float, *, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
