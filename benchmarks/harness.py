"""Servers under test: spawn, wait for the first healthy answer, measure memory, stop.

Standard library only (runs in the driver); memory comes straight from /proc.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HEALTH_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the ppid follows the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def process_tree(root: int) -> list[int]:
    kids, out, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _kib(path: str, field: str) -> int:
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


def tree_memory(root: int) -> dict[str, float]:
    """RSS summed over the process tree, and PSS (shared pages split, so never double-counted)."""
    pids = process_tree(root)
    rss = sum(_kib(f"/proc/{p}/status", "VmRSS") for p in pids)
    pss = sum(_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return {"processes": len(pids), "rss_mb": rss / 1024, "pss_mb": pss / 1024}


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds used so far by the process tree."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Server:
    """One server process group: started in its own session so stopping it stops its workers."""

    def __init__(self, name: str, argv: list[str], health_url: str, log: Path, env: dict) -> None:
        self.name, self.argv, self.health_url, self.log, self.env = name, argv, health_url, log, env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Spawn and poll the health endpoint; seconds from spawn to the first 200."""
        fh = self.log.open("ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, stdout=fh, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        while time.perf_counter() - t0 < HEALTH_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log}"
                )
            try:
                with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            f"{self.name} not healthy after {HEALTH_TIMEOUT_S:.0f} s; see {self.log}"
        )

    def settle(self, max_s: float = 60.0, busy_below: float = 0.05) -> float:
        """Wait until the server's tree stops using CPU (background start-up work is done).

        MLflow keeps spawning job-runner processes for seconds after /health answers;
        measuring then would charge their start-up to the first workload. Returns seconds waited.
        """
        assert self.proc is not None
        t0 = time.perf_counter()
        before = tree_cpu_s(self.proc.pid)
        while time.perf_counter() - t0 < max_s:
            time.sleep(1.0)
            now = tree_cpu_s(self.proc.pid)
            if now - before < busy_below:
                break
            before = now
        return time.perf_counter() - t0

    def memory(self) -> dict[str, float]:
        assert self.proc is not None
        return tree_memory(self.proc.pid)

    def stop(self) -> int | None:
        """SIGTERM the group, SIGKILL after 30 s; the leader's exit code (None if not running).

        A negative code means a signal ended it: -9 says SIGTERM was not enough.
        """
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            self.proc = None
            return code
        pgid = self.proc.pid  # start_new_session made the server its own group leader
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait()
        code = self.proc.returncode
        # Workers of the group may outlive the leader by a moment; make sure they are gone.
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.killpg(pgid, signal.SIGKILL)
        self.proc = None
        return code


def machine_info(mlflow_py: str, modelward_py: str) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    return {
        "nproc": out(["nproc"]),
        "free_g": out(["free", "-g"]),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "mlflow": out([mlflow_py, "-c", "import mlflow; print(mlflow.__version__)"]),
        "modelward": out([modelward_py, "-c", "import modelward; print(modelward.__version__)"]),
    }


def source_state(root: Path) -> dict[str, str]:
    """The commit measured and how many files under src/ differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_src_files": str(len(changed)),
    }


def copy_source(root: Path, dst: Path) -> Path:
    """Copy ``root``'s src/modelward under ``dst``; a folder to put on PYTHONPATH.

    A long run then measures one version of the code even while the tree is being edited.
    """
    shutil.copytree(
        root / "src" / "modelward", dst / "modelward", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dst
