"""The ISO downloader against a loopback HTTP server that supports Range."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.core.state import ClusterState
from tasks.infra.download import checksum_path, download, recorded_sha256
from tasks.infra.iso import cached_iso_path, ensure_iso
from tasks.infra.settings import InfraSettings

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def served(http_server: Any) -> Any:
    http_server.behaviour.payload = PAYLOAD
    return http_server


def test_full_download_records_its_checksum(served: Any, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "talos.iso"
    fetched = download(f"{served.url}/talos.iso", dest)
    assert dest.read_bytes() == PAYLOAD
    assert (fetched.sha256, fetched.size, fetched.resumed_from) == (DIGEST, len(PAYLOAD), 0)
    assert checksum_path(dest).read_text() == f"{DIGEST}  talos.iso\n"
    assert not dest.with_name("talos.iso.part").exists()


def test_interrupted_download_keeps_the_part_and_resumes_with_range(
    served: Any, tmp_path: Path
) -> None:
    dest = tmp_path / "talos.iso"
    served.behaviour.cut_after = 1_000_000
    with pytest.raises(
        UserError, match=rf"stopped at 1000000 of {len(PAYLOAD)} bytes.*run again to resume"
    ):
        download(f"{served.url}/talos.iso", dest)
    part = tmp_path / "talos.iso.part"
    assert part.stat().st_size == 1_000_000
    assert not dest.exists()

    fetched = download(f"{served.url}/talos.iso", dest, expected_sha256=DIGEST)
    assert [r["range"] for r in served.behaviour.requests] == [None, "bytes=1000000-"]
    assert fetched.resumed_from == 1_000_000
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(served: Any, tmp_path: Path) -> None:
    dest = tmp_path / "talos.iso"
    (tmp_path / "talos.iso.part").write_bytes(b"junk" * 10)
    served.behaviour.honour_range = False
    fetched = download(f"{served.url}/talos.iso", dest)
    assert served.behaviour.requests[0]["range"] == "bytes=40-"
    assert fetched.resumed_from == 0
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_is_finished_without_a_body(served: Any, tmp_path: Path) -> None:
    dest = tmp_path / "talos.iso"
    (tmp_path / "talos.iso.part").write_bytes(PAYLOAD)
    fetched = download(f"{served.url}/talos.iso", dest)
    assert fetched.sha256 == DIGEST and dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_removes_the_download(served: Any, tmp_path: Path) -> None:
    dest = tmp_path / "talos.iso"
    with pytest.raises(UserError, match=rf"expected {'0' * 64}; the file was removed"):
        download(f"{served.url}/talos.iso", dest, expected_sha256="0" * 64)
    assert not dest.exists() and not (tmp_path / "talos.iso.part").exists()


def test_http_errors_and_unreachable_servers_are_user_errors(served: Any, tmp_path: Path) -> None:
    served.behaviour.status = 404
    with pytest.raises(UserError, match="HTTP 404"):
        download(f"{served.url}/missing.iso", tmp_path / "x.iso")
    with pytest.raises(UserError, match=r"cannot reach http://127\.0\.0\.1:9/x\.iso.*--iso PATH"):
        download("http://127.0.0.1:9/x.iso", tmp_path / "x.iso")
    with pytest.raises(UserError, match="only http"):
        download("file:///etc/passwd", tmp_path / "x.iso")


# -- ensure_iso: cache, local file, checksum pinning ------------------------------------------


def _settings(tmp_path: Path) -> InfraSettings:
    return InfraSettings(
        "qemu:///system",
        "kvm",
        "host-passthrough",
        tmp_path / "img",
        ClusterState(tmp_path / "state"),
    )


def _spec_at(spec: Any, url: str) -> Any:
    return spec.model_copy(
        update={"image_factory": spec.image_factory.model_copy(update={"url": url})}
    )


def test_ensure_iso_downloads_once_then_verifies_the_cached_copy(
    served: Any, spec: Any, tmp_path: Path
) -> None:
    local_spec = _spec_at(spec, served.url)
    settings = _settings(tmp_path)
    runner = Runner(out=lambda _line: None)
    first = runner.converge(ensure_iso(local_spec, settings))
    assert first.source == "downloaded" and first.sha256 == DIGEST
    assert first.path == cached_iso_path(local_spec, settings)
    assert served.behaviour.requests[0]["path"].endswith("/v1.13.9/metal-amd64.iso")

    again = runner.converge(ensure_iso(local_spec, settings))
    assert again.source == "cached" and len(served.behaviour.requests) == 1

    first.path.write_bytes(PAYLOAD[:-1] + b"x")
    with pytest.raises(UserError, match=rf"SHA-256 is .* expected {DIGEST}.*delete it"):
        runner.converge(ensure_iso(local_spec, settings))
    assert recorded_sha256(first.path) == DIGEST


def test_ensure_iso_under_dry_run_writes_nothing(served: Any, spec: Any, tmp_path: Path) -> None:
    lines: list[str] = []
    found = Runner(dry=True, out=lines.append).converge(
        ensure_iso(_spec_at(spec, served.url), _settings(tmp_path))
    )
    assert found.source == "planned"
    sid = found.path.name.split("-")[2]
    url = f"{served.url}/image/{sid}/v1.13.9/metal-amd64.iso"
    assert lines == [f"# write {found.path}  (download {url})"]
    assert served.behaviour.requests == [] and not (tmp_path / "state").exists()


def test_local_iso_and_sha256_option(spec: Any, tmp_path: Path) -> None:
    iso = tmp_path / "local.iso"
    iso.write_bytes(PAYLOAD)
    runner = Runner(out=lambda _line: None)
    found = runner.converge(
        ensure_iso(spec, _settings(tmp_path), local=str(iso), sha256=DIGEST.upper())
    )
    assert (found.path, found.source) == (iso, "local")
    with pytest.raises(UserError, match=r"--iso .*nope.iso: no such file"):
        runner.converge(ensure_iso(spec, _settings(tmp_path), local=str(tmp_path / "nope.iso")))
    with pytest.raises(UserError, match="is not a SHA-256 digest"):
        runner.converge(ensure_iso(spec, _settings(tmp_path), local=str(iso), sha256="abc"))
    with pytest.raises(UserError, match="SHA-256 is"):
        runner.converge(ensure_iso(spec, _settings(tmp_path), local=str(iso), sha256="1" * 64))
    with pytest.raises(UserError, match=r"No Talos ISO at .*run `inv infra.image`"):
        runner.converge(ensure_iso(spec, _settings(tmp_path), download_missing=False))


def test_a_download_directory_that_cannot_be_created_is_named(served: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(UserError) as info:
        download(served.url + "/iso", blocker / "cache" / "talos.iso")
    assert info.value.text.startswith(
        f"Cannot create the download directory {blocker / 'cache'} (Not a directory)"
    )
    assert served.behaviour.requests == []
