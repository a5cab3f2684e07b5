"""`allot run` as a user starts and stops it: one worker, or several on one port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from tests.support.server import ROOT, TEST_SECRET, free_port


def start_run(port: int, **settings: str) -> subprocess.Popen[bytes]:
    """`allot run --no-seed` on `port`, with these ALLOT_ settings (or DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"ALLOT_JWT_SECRET": TEST_SECRET, "ALLOT_PORT": str(port), "ALLOT_LOG_LEVEL": "WARNING"}
    env |= settings
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "run", "--no-seed"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_run__serves_with_several_workers_on_one_port_and_stops_on_ctrl_c(dsn: str) -> None:
    port = free_port()
    proc = start_run(port, DATABASE_URL=dsn, ALLOT_WORKERS="2")
    try:
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline:
            up = ready(port)
            workers = [  # (not multiprocessing's resource tracker)
                p
                for p in psutil.Process(proc.pid).children()
                if "spawn_main" in " ".join(p.cmdline())
            ]
            if up and len(workers) == 2:
                break
            assert proc.poll() is None, "allot run exited"
            time.sleep(0.2)
        assert len(workers) == 2
        for _ in range(4):  # whichever worker answers, it answers the same
            body = httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=5
            ).json()
            assert body == {"data": {"__typename": "Query"}}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run__stops_its_embedded_postgres_on_sigterm(tmp_path) -> None:
    """A process manager stops `allot run` with SIGTERM: the embedded server it started must
    not outlive it."""
    port = free_port()
    proc = start_run(port, ALLOT_DATA_DIR=str(tmp_path / "allot"))

    def embedded() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["name", "cmdline"]):
            try:
                command = " ".join(p.info["cmdline"] or ())
                if p.info["name"] == "postgres" and str(tmp_path) in command:
                    found.append(p)
            except psutil.Error:
                continue
        return found

    try:
        deadline = time.monotonic() + 90
        while not ready(port) and time.monotonic() < deadline:
            assert proc.poll() is None, "allot run exited"
            time.sleep(0.2)
        assert embedded(), "the embedded server runs"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 30
        while embedded() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not embedded()
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in embedded():
            p.kill()
