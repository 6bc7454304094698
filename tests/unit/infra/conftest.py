"""A loopback HTTP server for the downloader and the Image Factory client, plus spec helpers."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tasks.core.config import ClusterSpec, load_spec

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Behaviour:
    """What the server does; tests change it between requests."""

    payload: bytes = b""
    #: Close the connection after this many body bytes (once), to simulate a dropped download.
    cut_after: int | None = None
    honour_range: bool = True
    status: int = 200
    schematic_id: str = ""
    schematic_status: int = 201
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        b = self.server.behaviour
        b.requests.append({"method": "GET", "path": self.path, "range": self.headers.get("Range")})
        if b.status != 200:
            self.send_error(b.status)
            return
        payload, start = b.payload, 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and b.honour_range:
            start = int(match.group(1))
            if start >= len(payload):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(payload)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(payload) - 1}/{len(payload)}")
        else:
            self.send_response(200)
        body = payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if b.cut_after is not None:
            self.wfile.write(body[: b.cut_after])
            self.wfile.flush()
            b.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(body)

    def do_POST(self) -> None:
        b = self.server.behaviour
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        b.requests.append(
            {
                "method": "POST",
                "path": self.path,
                "body": body,
                "type": self.headers.get("Content-Type"),
            }
        )
        data = json.dumps({"id": b.schematic_id}).encode()
        self.send_response(b.schematic_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    behaviour: Behaviour


@dataclass
class HttpServer:
    url: str
    behaviour: Behaviour


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = Behaviour()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield HttpServer(f"http://127.0.0.1:{server.server_address[1]}", server.behaviour)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def spec() -> ClusterSpec:
    return load_spec(REPO / "deploy/local-cluster/cluster.yaml").spec
