"""Schema downloads against a real HTTP server on loopback."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tasks.validate.download import Download, crd_download, fetch, fetch_all


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_stores_json_atomically(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    (root / "a.json").write_text('{"type": "object"}')
    dest = tmp_path / "cache" / "a.json"
    fetch(Download(f"{url}/a.json", dest))
    assert dest.read_text() == '{"type": "object"}'
    assert [p.name for p in dest.parent.iterdir()] == ["a.json"]  # no temporary file left


def test_http_error_names_the_url_and_keeps_the_old_copy(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    dest = tmp_path / "kept.json"
    dest.write_text("{}")
    with pytest.raises(UserError) as err:
        fetch(Download(f"{url}/missing.json", dest))
    assert f"downloading {url}/missing.json failed: HTTP 404" in err.value.text
    assert "validate.schema_dir" in err.value.text
    assert dest.read_text() == "{}"


def test_response_that_is_not_json_is_refused(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    (root / "page.json").write_text("<html>rate limited</html>")
    dest = tmp_path / "page.json"
    with pytest.raises(UserError) as err:
        fetch(Download(f"{url}/page.json", dest))
    assert "the response is not JSON" in err.value.text
    assert not dest.exists()


def test_unreachable_server_and_bad_scheme(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        # Port 9 (discard) on loopback: nothing listens there.
        fetch(Download("http://127.0.0.1:9/x.json", tmp_path / "x.json"), timeout=5)
    assert "Without network access" in err.value.text
    with pytest.raises(UserError) as err:
        fetch(Download("file:///etc/passwd", tmp_path / "y.json"))
    assert err.value.code == 2


def test_crd_download_follows_the_catalog_layout(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    (root / "c1" / "cilium.io").mkdir(parents=True)
    (root / "c1" / "cilium.io" / "ciliumloadbalancerippool_v2.json").write_text("{}")
    d = crd_download(
        url + "/{commit}/{group}/{kind}_{version}.json",
        "c1",
        tmp_path / "cache",
        "cilium.io/v2",
        "CiliumLoadBalancerIPPool",
    )
    assert d.url == f"{url}/c1/cilium.io/ciliumloadbalancerippool_v2.json"
    assert fetch_all([d, d]) == [
        tmp_path / "cache" / "cilium.io" / "ciliumloadbalancerippool_v2.json"
    ]
    assert d.dest.read_text() == "{}"
