"""The image ships the runtime only: requirements.txt has no test or lint tooling, requirements-dev.txt adds
it on top, the Dockerfile installs requirements.txt alone, and scripts/bootstrap.sh (`make run`,
`make test`) installs the development set again whenever either file changes."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_ONLY = {
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "factory-boy",
    "schemathesis",
    "hypothesis",
    "faker",
    "ruff",
    "pyyaml",
    "playwright",
    "mypy",
    "django-stubs",
    "djangorestframework-stubs",
    "gunicorn",
    "granian",
    "pyinstrument",
}


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def pinned_names(name: str) -> set[str]:
    return {
        re.split(r"[\[=<>~!]", line, maxsplit=1)[0].lower()
        for line in requirement_lines(name)
        if not line.startswith("-")
    }


def test_runtime_requirements_carry_no_test_or_lint_tooling():
    runtime = pinned_names("requirements.txt")
    assert runtime >= {"django", "djangorestframework", "celery", "pyuwsgi", "drf-spectacular-sidecar"}
    assert not runtime & DEVELOPMENT_ONLY


def test_development_requirements_add_the_tooling_to_the_runtime():
    assert requirement_lines("requirements-dev.txt")[0] == "-r requirements.txt"
    assert pinned_names("requirements-dev.txt") == DEVELOPMENT_ONLY
    for line in requirement_lines("requirements.txt") + requirement_lines("requirements-dev.txt")[1:]:
        assert "==" in line, f"{line!r} is not pinned"


def test_the_image_installs_the_runtime_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == ["pip install -r requirements.txt"]


def fake_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of bootstrap.sh and both requirement files next to a .venv whose python only logs its
    arguments: what bootstrap would install, without installing anything."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "bootstrap.sh").write_bytes((ROOT / "scripts" / "bootstrap.sh").read_bytes())
    for name in ("requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    calls = tmp_path / "pip-calls"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nif [ "$1" = "-m" ]; then echo "$*" >> {calls}; fi\necho "Python 3.11.7"\n')
    python.chmod(0o755)
    return tmp_path, calls


def bootstrap(checkout: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "VENV"}
    subprocess.run(["bash", "scripts/bootstrap.sh"], cwd=checkout, env=env, check=True, capture_output=True)


def installs(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def test_bootstrap_installs_the_development_set_again_when_either_file_changes(tmp_path):
    checkout, calls = fake_checkout(tmp_path)
    bootstrap(checkout)
    assert installs(calls) == ["-m pip install --disable-pip-version-check --requirement requirements-dev.txt"]

    bootstrap(checkout)  # nothing changed: the stamp says so
    assert len(installs(calls)) == 1

    with (checkout / "requirements-dev.txt").open("a") as dev:
        dev.write("# a tool added\n")
    bootstrap(checkout)
    assert len(installs(calls)) == 2

    with (checkout / "requirements.txt").open("a") as runtime:
        runtime.write("# a runtime package added\n")
    bootstrap(checkout)
    assert len(installs(calls)) == 3
