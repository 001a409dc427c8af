"""Celery beat's schedule file never lands in the checkout: it lives in the gitignored .run/, however beat is
started, and .gitignore covers a stray one anyway."""

import subprocess
from pathlib import Path

from order_project.celery import ScheduleInRunDirectory, app

ROOT = Path(__file__).resolve().parents[2]


def test_beat_schedules_into_the_run_directory_by_default():
    assert Path(app.conf.beat_schedule_filename) == ROOT / ".run" / "celerybeat-schedule"


def test_beat_creates_the_run_directory_it_needs(tmp_path):
    assert app.conf.beat_scheduler == "order_project.celery:ScheduleInRunDirectory"
    scheduler = ScheduleInRunDirectory(app=app, schedule_filename=str(tmp_path / ".run" / "celerybeat-schedule"))
    try:
        assert "outbox-sweep" in scheduler.schedule
    finally:
        scheduler.close()
    assert list((tmp_path / ".run").glob("celerybeat-schedule*"))


def test_git_ignores_stray_schedule_files():
    for name in ("celerybeat-schedule", "celerybeat-schedule.db", "celerybeat-schedule-shm", "celerybeat.pid"):
        ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", name], cwd=ROOT)
        assert ignored.returncode == 0, name
