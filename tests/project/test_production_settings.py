"""DJANGO_ENV=production refuses to start with settings that would be unsafe in front of real users, and an
unknown DJANGO_ENV refuses to start at all (read as development it would drop every production safeguard).
Settings are read once per process, so each case starts Django in a process of its own.
(`manage.py check --deploy` with good production settings: tests/project/test_security.py.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STRONG_KEY = "k3#Jx9!vQ2@pL7$wR4^zN8&mT1*bY6(cF5)hD0_sG3+eA9-uW2=oI7"


def start_django(**env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DEBUG": "0", "SECRET_KEY": STRONG_KEY, **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr[-1000:]


def test_production_with_a_strong_key_and_debug_off_starts():
    result = start_django(DJANGO_ENV="production")
    assert result.returncode == 0, result.stderr[-1000:]


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_production_refuses_debug(debug):
    assert_refused(start_django(DJANGO_ENV="production", DEBUG=debug), "DEBUG")


@pytest.mark.parametrize("key", ["", "short-but-not-empty", STRONG_KEY[:49]])
def test_production_refuses_a_secret_key_under_50_characters(key):
    assert_refused(start_django(DJANGO_ENV="production", SECRET_KEY=key), "SECRET_KEY", "50")


@pytest.mark.parametrize("name", ["prod", "Production", "staging", "test"])
def test_an_unknown_django_env_is_an_error_naming_the_allowed_values(name):
    assert_refused(start_django(DJANGO_ENV=name), repr(name), "development, production")


def test_development_is_the_default_and_takes_the_development_key():
    assert start_django(DJANGO_ENV="", SECRET_KEY="", DEBUG="1").returncode == 0
