"""What a create costs the web process in-process, and where it goes: `python -m bench.profile_create`.

Sends `POST /api/v1/orders/` (the bench's body: 3 lines, a random customer's token) through Django's test
Client, with the application loaded as the web server loads it (order_project/wsgi.py: the whole
middleware, authentication, view, serializers, service and SQL; no HTTP server), one request at a time:

1. CPU per request (`time.process_time`, this process only: not PostgreSQL's) over --requests creates after
   --warmup, and the same for `GET /api/v1/users/me/`, the simplest authenticated request;
2. a profile of --profile-requests more creates, with pyinstrument (a call tree, --profiler pyinstrument) or
   cProfile (the functions with the most own and cumulative time, --profiler cprofile), written to
   bench/results/profile-create.txt and summarised on stdout.

Needs the database and seed file a `make bench` run leaves (`orders_bench`, bench/results/seed.json). The
relay's commit hook is off (OUTBOX_RELAY_ON_COMMIT=0), so no task is queued for a worker that is not there:
the figures leave out its Redis round trip (0.17 ms, docs/PERFORMANCE.md)."""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import RESULTS_DIR, database_url
from bench.load import PAYMENT_METHODS, shipping_address


def create_body(rng: random.Random, seed: dict) -> tuple[str, str]:
    """The create phase's request (bench/load.py phase_create): a token and a JSON body."""
    customer = rng.choice(seed["customers"])
    items = [
        {"product_id": v["product_id"], "variant_id": v["variant_id"], "quantity": rng.randint(1, 3),
         "expected_unit_price_cents": v["price_cents"]}
        for v in rng.sample(seed["variants"], 3)
    ]  # fmt: skip
    body = {
        "items": items,
        "shipping_address": shipping_address(rng, customer["display_name"]),
        "payment_method": rng.choice(PAYMENT_METHODS),
        "notes": "Leave at the door, please.",
    }
    return customer["token"], json.dumps(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="orders_bench")
    parser.add_argument("--seed", type=Path, default=RESULTS_DIR / "seed.json")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile-requests", type=int, default=300)
    parser.add_argument("--profiler", choices=["pyinstrument", "cprofile"], default="cprofile")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "profile-create.txt")
    args = parser.parse_args()
    if not args.seed.exists():
        sys.exit(f"profile_create: {args.seed} is missing: run `make bench` first (it seeds {args.db})")
    os.environ.update(
        DATABASE_URL=database_url(args.db), DJANGO_SETTINGS_MODULE="order_project.settings", DEBUG="0",
        THROTTLE_ENABLED="0", LOG_LEVEL="WARNING", OUTBOX_RELAY_ON_COMMIT="0", CACHE_KEY_PREFIX=args.db,
        DB_CONN_MAX_AGE="3600",
    )  # fmt: skip
    from django.test import Client

    import order_project.wsgi  # noqa: F401 - the application as the web server loads it (gc.freeze() included)

    seed = json.loads(args.seed.read_text())
    rng = random.Random(7)
    client = Client()

    def create() -> None:
        token, body = create_body(rng, seed)
        response = client.post("/api/v1/orders/", body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Token {token}")  # fmt: skip
        if response.status_code != 201:
            sys.exit(f"profile_create: {response.status_code} {response.content[:300]!r}")

    def me() -> None:
        response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {rng.choice(seed['customers'])['token']}")
        if response.status_code != 200:
            sys.exit(f"profile_create: users/me {response.status_code} {response.content[:300]!r}")

    def cpu_ms(request, n: int) -> float:
        for _ in range(args.warmup):
            request()
        began = time.process_time()
        for _ in range(n):
            request()
        return (time.process_time() - began) * 1000 / n

    figures = {"create_cpu_ms": cpu_ms(create, args.requests), "users_me_cpu_ms": cpu_ms(me, args.requests)}
    text = io.StringIO()
    if args.profiler == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.profile_requests):
            create()
        profiler.stop()
        text.write(profiler.output_text(unicode=True, color=False, show_all=False))
    else:
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.profile_requests):
            create()
        profile.disable()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text.getvalue())
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"create: {figures['create_cpu_ms']:.2f} ms CPU per request, GET users/me: "
          f"{figures['users_me_cpu_ms']:.2f} ms ({args.requests} each after {args.warmup} warm-up; load average "
          f"{loadavg}); {args.profiler} profile of {args.profile_requests} creates: {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
