"""Wait (bounded) until the PostgreSQL server of DATABASE_URL answers, then create its database if it
is missing. Reads the connection from the project's own settings, so the defaults are the same.

Usage: ensure_db.py [--wait SECONDS] [--check-only]"""

import argparse
import sys
import time
from pathlib import Path

import psycopg
from psycopg import errors, sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from order_project.settings import DATABASES  # after the sys.path line: it needs the project root

MAINTENANCE_DATABASES = ("postgres", "template1")


def connect(db: dict, deadline: float) -> psycopg.Connection:
    params = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 3,
    }
    while True:
        problem = None
        for dbname in MAINTENANCE_DATABASES:
            try:
                return psycopg.connect(dbname=dbname, autocommit=True, **params)
            except psycopg.OperationalError as exc:
                problem = exc
        if time.monotonic() >= deadline:
            where = f"{params['host'] or 'local socket'}:{params['port'] or 5432}"
            sys.exit(f"ensure_db: PostgreSQL at {where} is not reachable: {problem}".strip())
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server (default 30)")
    parser.add_argument("--check-only", action="store_true", help="only wait for the server; create nothing")
    args = parser.parse_args()

    db = DATABASES["default"]
    with connect(db, time.monotonic() + args.wait) as conn:
        if args.check_only:
            return
        name = db["NAME"]
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"ensure_db: created database {name}")
        except errors.DuplicateDatabase:
            pass  # created by someone else in the meantime


if __name__ == "__main__":
    main()
