"""A local stand-in for the Hugging Face Hub's file download endpoints (LFS files), for tests.

The "CDN" that serves the bytes listens on a second port of 127.0.0.1: huggingface_hub follows same-origin
redirects of its HEAD call, but stops at a redirect to another origin and reads the file metadata from that
302 response, which is what happens with the real Hub and its CDN.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

MODES = ("ok", "fail", "truncated", "corrupt", "drop_once")


class HubURL(str):
    """Base URL of a running fake hub; `.requests` lists the (method, path, Range header) it has seen."""

    requests: list


class _Hub:
    def __init__(self, files: dict[str, bytes], repo_id: str, mode: str | dict[str, str]):
        modes = mode if isinstance(mode, dict) else dict.fromkeys(files, mode)
        for m in modes.values():
            if m not in MODES:
                raise ValueError(f"unknown mode {m!r}, expected one of {MODES}")
        self.files = dict(files)
        self.repo_id = repo_id
        self.modes = modes
        self.sha = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        self.by_sha = {sha: name for name, sha in self.sha.items()}
        self.commit = hashlib.sha1(repr(sorted(self.sha.items())).encode()).hexdigest()
        self.requests: list[tuple[str, str, str | None]] = []
        self.dropped: set[str] = set()
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.cdn_url = ""

    def mode(self, name: str) -> str:
        return self.modes.get(name, "ok")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and Content-Length framing, like the real servers

    def setup(self):
        super().setup()
        with self.server.hub.lock:
            self.server.hub.connections.add(self.connection)

    def finish(self):
        with self.server.hub.lock:
            self.server.hub.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        self._handle()

    def do_GET(self):
        self._handle()

    def _handle(self):
        hub = self.server.hub
        path = unquote(self.path.split("?", 1)[0])
        with hub.lock:
            hub.requests.append((self.command, path, self.headers.get("Range")))
        if path.startswith("/cdn/"):
            self._cdn(hub, path[len("/cdn/"):])
        else:
            self._resolve(hub, path)

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"", length: int | None = None):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _resolve(self, hub: _Hub, path: str):
        match = re.fullmatch(r"/(.+)/resolve/([^/]+)/(.+)", path)
        if match is None or match[1] != hub.repo_id:
            return self._reply(404, {"X-Error-Code": "RepoNotFound"}, b"Repository not found")
        name = match[3]
        if name not in hub.files:
            headers = {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": hub.commit}
            return self._reply(404, headers, b"Entry not found")
        if hub.mode(name) == "fail":
            return self._reply(500, {}, b"Internal Error")
        sha = hub.sha[name]
        self._reply(302, {
            "Location": f"{hub.cdn_url}/cdn/{sha}",
            "X-Repo-Commit": hub.commit,
            "X-Linked-Etag": f'"{sha}"',
            "X-Linked-Size": str(len(hub.files[name])),
            "ETag": f'"{sha}"',
        })

    def _cdn(self, hub: _Hub, sha: str):
        name = hub.by_sha.get(sha)
        if name is None:
            return self._reply(404, {}, b"Not found")
        mode = hub.mode(name)
        if mode == "fail":
            return self._reply(500, {}, b"Internal Error")
        data = hub.files[name]
        if mode == "corrupt":
            data = bytes(b ^ 0xFF for b in data)
        elif mode == "truncated":
            data = data[: len(data) // 2]
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha}"', "Content-Type": "application/octet-stream"}

        start, status = 0, 200
        range_header = self.headers.get("Range")
        if range_header:
            match = re.fullmatch(r"bytes=(\d+)-", range_header.strip())
            if match is None or int(match[1]) >= len(data):
                return self._reply(416, {"Content-Range": f"bytes */{len(data)}"})
            start, status = int(match[1]), 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]

        drop = False
        if mode == "drop_once" and self.command == "GET":
            with hub.lock:
                drop = name not in hub.dropped
                hub.dropped.add(name)
        if drop:
            # Announce the full length, send half, then hang up.
            self._reply(status, headers, body[: len(body) // 2], length=len(body))
            self.close_connection = True
        else:
            self._reply(status, headers, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: _Hub):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub = hub
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def serve_hub(files: dict[str, bytes], repo_id: str = "yzd-v/DWPose", mode: str | dict[str, str] = "ok"):
    """Serve `files` of `repo_id` like the Hub does; `mode` is one of MODES, or a dict filename -> mode."""
    hub = _Hub(files, repo_id, mode)
    servers = [_Server(hub), _Server(hub)]  # hub API, CDN
    hub.cdn_url = servers[1].url
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for server in servers
    ]
    for thread in threads:
        thread.start()
    url = HubURL(servers[0].url)
    url.requests = hub.requests
    try:
        yield url
    finally:
        for server in servers:
            server.shutdown()
        # Wake handler threads idling on keep-alive connections that the client's pool holds open.
        with hub.lock:
            connections = list(hub.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for server in servers:
            server.server_close()
        for thread in threads:
            thread.join()
