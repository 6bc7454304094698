"""Following the Docker Engine build and push streams: progress once per layer, errors named."""

from __future__ import annotations

import pytest

from tasks.core.errors import UserError
from tasks.images.engine import follow_build, follow_push


def test_push_progress_reports_each_layer_status_once() -> None:
    stream = [
        {"status": "The push refers to repository [r/x]"},
        {"status": "Pushing", "id": "abc", "progressDetail": {"current": 1}},
        {"status": "Pushing", "id": "abc", "progressDetail": {"current": 2}},
        {"status": "Pushed", "id": "abc"},
        {"status": "v1: digest: sha256:1 size: 420"},
    ]
    assert list(follow_push(stream, "r/x:v1")) == [
        "The push refers to repository [r/x]",
        "abc: Pushing",
        "abc: Pushed",
        "v1: digest: sha256:1 size: 420",
    ]


def test_push_error_fails_with_the_engine_message() -> None:
    stream = [
        {"status": "The push refers to repository [r/x]"},
        {"errorDetail": {"message": "denied: permission_denied"}, "error": "denied"},
    ]
    with pytest.raises(UserError, match=r"pushing r/x:v1 failed: denied: permission_denied"):
        list(follow_push(stream, "r/x:v1"))


def test_build_error_shows_the_last_output() -> None:
    stream = [{"stream": "STEP 1/2: FROM scratch\n"}, {"error": "COPY failed: no such file"}]
    with pytest.raises(UserError) as info:
        follow_build(stream, "web")
    assert info.value.text == (
        "building the web image failed: COPY failed: no such file\n"
        "  last output:\n    STEP 1/2: FROM scratch"
    )
