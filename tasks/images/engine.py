"""Build, tag and push through the Docker Engine API (docker SDK; ``DOCKER_HOST`` honoured).

Works against Docker or a podman API service. Streams the engine's output as it comes; any
``error`` in the build or push stream fails the step with the engine's message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tasks.core import console
from tasks.core.errors import UserError
from tasks.images.plan import WebBuild

_HINT = (
    "Is a container engine reachable? The docker SDK uses DOCKER_HOST "
    "(e.g. unix:///run/podman/podman.sock) or the default /var/run/docker.sock."
)


def client() -> Any:
    """A docker SDK client from the environment (DOCKER_HOST, DOCKER_TLS_VERIFY, ...)."""
    import docker
    from docker.errors import DockerException

    try:
        return docker.from_env()
    except DockerException as exc:
        raise UserError(f"cannot reach the container engine: {exc}\n{_HINT}") from None


def _engine_error(line: dict[str, Any]) -> str | None:
    if "error" in line or "errorDetail" in line:
        detail = line.get("errorDetail") or {}
        return str(detail.get("message") or line.get("error") or line)
    return None


def follow_build(stream: Iterable[dict[str, Any]], component: str) -> list[str]:
    """Print the build log as it comes; raise on the first error. Returns the log lines."""
    log: list[str] = []
    for line in stream:
        error = _engine_error(line)
        if error is not None:
            tail = "\n".join(f"    {t}" for t in log[-12:])
            raise UserError(
                f"building the {component} image failed: {error.strip()}\n  last output:\n{tail}"
            )
        text = str(line.get("stream", "")).rstrip()
        if text:
            log.extend(text.splitlines())
            console.info(text)
    return log


def follow_push(stream: Iterable[dict[str, Any]], ref: str) -> Iterator[str]:
    """Progress lines of one push (one per layer status change); raise on any error."""
    last: dict[str, str] = {}
    for line in stream:
        error = _engine_error(line)
        if error is not None:
            raise UserError(
                f"pushing {ref} failed: {error.strip()}\n"
                "Check the registry address, that you are logged in (docker login / GHCR token "
                "with packages: write) and, for a plain-HTTP registry, the engine's insecure list."
            )
        status = str(line.get("status", ""))
        layer = str(line.get("id", ""))
        if not status:
            continue
        if layer:
            # Byte counters change constantly: report a layer only when its status changes.
            if last.get(layer) == status:
                continue
            last[layer] = status
            yield f"{layer}: {status}"
        else:
            yield status


def build(api: Any, spec: WebBuild) -> None:
    """Build once with every tag (the engine tags all ``refs``)."""
    stream = api.build(
        path=str(spec.context),
        dockerfile=spec.dockerfile,
        tag=spec.refs[0],
        labels=spec.labels,
        rm=True,
        decode=True,
    )
    follow_build(stream, spec.component)
    for ref in spec.refs[1:]:
        repository, _, tag = ref.rpartition(":")
        if not api.tag(spec.refs[0], repository, tag):
            raise UserError(f"tagging {spec.refs[0]} as {ref} failed")


def push(api: Any, spec: WebBuild) -> None:
    """Push every tag; stop at the first error."""
    for ref in spec.refs:
        repository, _, tag = ref.rpartition(":")
        console.step(f"push {ref}")
        for progress in follow_push(api.push(repository, tag=tag, stream=True, decode=True), ref):
            console.info(progress)
