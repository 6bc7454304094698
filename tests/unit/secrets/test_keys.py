"""Where the age key is looked for, and what makes a key file unsafe."""

from __future__ import annotations

from pathlib import Path

from tasks.secrets.keys import default_key_file, identities, key_file_problems


def test_sops_age_key_file_wins() -> None:
    env = {"SOPS_AGE_KEY_FILE": "/k/keys.txt", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}
    assert default_key_file(env) == Path("/k/keys.txt")


def test_then_xdg_config_home_then_home() -> None:
    assert default_key_file({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == Path("/x/sops/age/keys.txt")
    assert default_key_file({"HOME": "/h"}) == Path("/h/.config/sops/age/keys.txt")


def test_identities_skip_comments() -> None:
    text = "# created: now\n# public key: age1xyz\nAGE-SECRET-KEY-1ABC234\n\nAGE-SECRET-KEY-1DEF\n"
    assert identities(text) == ["AGE-SECRET-KEY-1ABC234", "AGE-SECRET-KEY-1DEF"]


def test_a_key_inside_the_repository_or_readable_by_others_is_a_problem(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    key = repo / "keys.txt"
    key.write_text("AGE-SECRET-KEY-1X\n")
    key.chmod(0o644)
    problems = key_file_problems(key, repo)
    assert any("inside the repository" in p for p in problems)
    assert any("mode 644" in p and "chmod 600" in p for p in problems)


def test_a_private_key_outside_the_repository_is_fine(tmp_path: Path) -> None:
    key = tmp_path / "keys.txt"
    key.write_text("AGE-SECRET-KEY-1X\n")
    key.chmod(0o600)
    (tmp_path / "repo").mkdir()
    assert key_file_problems(key, tmp_path / "repo") == []
