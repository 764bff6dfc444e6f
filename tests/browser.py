"""Real-browser test support: installs what is missing, runs the app as a subprocess, drives Debian's chromium.

CI starts on a fresh machine as root, so `ensure_browser_tools()` installs the Python packages (pip) and
the chromium package (apt-get) when they are missing, instead of skipping.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "gradio_dw_open_pose.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PYTHON_PACKAGES = {"playwright": "playwright", "gradio": "gradio"}  # module -> pip requirement
LOCAL_PREFIXES = ("http://127.0.0.1", "data:", "blob:")


def ensure_browser_tools() -> None:
    missing = [requirement for module, requirement in PYTHON_PACKAGES.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", *missing], check=True)
        importlib.invalidate_caches()
    if not os.path.exists(CHROMIUM):
        install = ["apt-get", "install", "-y", "chromium"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(install, env=env).returncode != 0:  # stale or empty package lists
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is still missing after installing the chromium package")


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(temp_dir: Path) -> dict:
    return dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", GRADIO_TEMP_DIR=str(temp_dir),
                PYTHONUNBUFFERED="1")


class AppProcess:
    """`python gradio_dw_open_pose.py ARGS --port N` on 127.0.0.1, output kept in a log file.

    Starting returns at once (the caller can do other work while the app imports gradio);
    `wait_until_answering()` blocks until the page is served and shows the app's output on failure.
    """

    def __init__(self, args: list[str], work_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = work_dir / "app.log"
        self._log = open(self.log_path, "wb")
        self._answering = False
        self._start_failure = None
        command = [sys.executable, str(APP), *args, "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=app_environment(work_dir / "gradio_tmp"))

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_answering(self, timeout: float = 120.0) -> None:
        if self._answering:
            return
        if self._start_failure:  # do not wait again for every test
            raise RuntimeError(self._start_failure)
        try:
            self._poll(timeout)
        except RuntimeError as err:
            self._start_failure = str(err)
            raise

    def _poll(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with status {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        self._answering = True
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the app did not answer on {self.url} within {timeout:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def block_internet(context, blocked: list[str]) -> None:
    """Abort every request that leaves 127.0.0.1 (recorded in `blocked`): the page must work offline."""

    def handle(route):
        url = route.request.url
        if url.startswith(LOCAL_PREFIXES):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
