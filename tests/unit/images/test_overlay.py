"""images.promote's Kustomize edit: only the tag changes, comments kept, missing entries named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.images.overlay import current_tag, set_tag

IMAGE = "ghcr.io/propertea/propertea-company"
REAL = Path(__file__).resolve().parents[3] / "deploy/services/company/kustomization.yaml"

FIXTURE = """\
# Company service overlay.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../base   # shared rollout
images:
  - name: ghcr.io/propertea/propertea-other
    newTag: v9.9.9
  - name: ghcr.io/propertea/propertea-company  # promoted by CI
    newTag: "v0.1.0"   # keep quoted
"""


def test_only_the_tag_changes() -> None:
    out = set_tag(FIXTURE, Path("k.yaml"), IMAGE, "v1.3.0")
    assert out == FIXTURE.replace('"v0.1.0"', '"v1.3.0"')
    assert current_tag(out, Path("k.yaml"), IMAGE) == "v1.3.0"


def test_a_missing_new_tag_is_added_under_the_name() -> None:
    text = "images:\n  - name: ghcr.io/propertea/propertea-company\n"
    assert set_tag(text, Path("k.yaml"), IMAGE, "v1.0.0") == (
        "images:\n  - name: ghcr.io/propertea/propertea-company\n    newTag: v1.0.0\n"
    )


def test_real_overlay_copy(tmp_path: Path) -> None:
    if not REAL.exists():
        pytest.skip(f"{REAL} not written yet")
    copy = tmp_path / "kustomization.yaml"
    shutil.copy(REAL, copy)
    before = copy.read_text()
    after = set_tag(before, copy, IMAGE, "v2.0.0")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1 and changed[0][1].strip() == "newTag: v2.0.0"


def test_no_images_list() -> None:
    with pytest.raises(ConfigError, match=r"k.yaml: no `images:` list; add one with `- name: "):
        set_tag("resources: []\n", Path("k.yaml"), IMAGE, "v1.0.0")


def test_no_entry_for_the_image() -> None:
    with pytest.raises(
        ConfigError,
        match=r"`images:` has no entry named ghcr.io/propertea/propertea-company "
        r"\(found: ghcr.io/propertea/propertea-other\)",
    ):
        set_tag(
            "images:\n  - name: ghcr.io/propertea/propertea-other\n", Path("k.yaml"), IMAGE, "v1"
        )
