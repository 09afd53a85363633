"""Load test (issue 14): 50 concurrent users against ``cloudjudge serve`` on
PostgreSQL, over loopback HTTP, with locust (headless, bounded in users and
time; it stops by itself).

What it does, in order:

1. a PostgreSQL server: ``DATABASE_URL`` if it names one (a database
   ``cloudjudge_load`` is made on it and dropped at the end), else a
   throwaway cluster of its own (``scripts/postgres-test-server`` on
   ``--pg-port``, default 25347, folder ``--pg-dir``), stopped at the end;
2. ``migrate`` and a realistic register of ``--applications`` (default 2,000;
   benchmarks/web.py's seeder: 20 departments, 60 applicants, every stage,
   ~50 checklist rows each), a password and an API token for each applicant;
3. ``cloudjudge serve`` as in production (``CLOUDJUDGE_DEBUG=0``) on
   ``--port`` (default 8161), ``--workers`` × ``--threads``;
   before that (``--costs N``, default 20), each request type made N times
   in this process through Django's test client: CPU ms and queries per
   request (``--profile-dir``: a cProfile of each);
4. locust (benchmarks/load_locustfile.py), ``--users`` (50) in all, of two
   kinds, both stated in the output:

   * people (``--users`` − ``--api-users``, default 40): applicants who sign
     in through the login form, then list the register, open the dashboard
     or one of their applications, edit a checklist row, upload a small
     evidence file or call ``POST /api/v1/judgements``, by weight
     (``--mix``), pausing ``--think`` seconds (default 2–5, uniform)
     between two actions, as a person reading a page does;
   * integrations (``--api-users``, default 10): other systems of the city
     calling ``POST /api/v1/judgements`` with an API token, each at most
     ``--api-rate`` calls/s (default 32: 320/s in all, just above the
     target), or without pause with ``--api-rate 0`` (the most the server
     can do, saturated);

   ``--api-users 0 --think 0 --mix judgement=16,register=2,...`` is the
   earlier mix: everyone signed in and nobody pausing;
5. prints, per request type, the count, errors, throughput, median and p99,
   and the totals, with the load average (the machine may be shared: compare
   runs made under the same load), the CPU seconds the server, PostgreSQL
   and locust used per request in the measured period, and checks
   afterwards, in the database, that every upload and edit locust counted
   as a success was stored.

Targets on a 2-core machine, the load generator included: zero errors, p99
under 300 ms, at least 300 judgement requests/s. Printed, never asserted.

    .venv/bin/python benchmarks/load.py --time 30            # make bench runs this
    .venv/bin/python benchmarks/load.py --api-users 50 --mix judgement=1   # the API alone
    .venv/bin/python benchmarks/load.py --api-users 0 --think 0 \
        --mix judgement=16,register=2,dashboard=1,application=2,checklist=1,upload=1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOAD_DB = "cloudjudge_load"
PASSWORD = "Load-test-2026-pass"
#: Share of each task in what a person does. The judgement API is mostly
#: called by other systems (the integrations, DEFAULT_API_USERS of the users).
DEFAULT_MIX = "register=2,dashboard=1,application=2,checklist=1,upload=1,judgement=1"
#: Of the users, how many are other systems calling the API (no think time),
#: and how long a person pauses between two actions (seconds, MIN-MAX).
DEFAULT_API_USERS = 10
DEFAULT_THINK = "2-5"
#: Judgements per second each integration sends at most: 10 × 32 = 320/s,
#: just above the target, so the run shows whether the server keeps up with
#: it and how fast it answers then (0: each calls again as soon as answered,
#: which finds the most the server can do, at the price of saturating it).
DEFAULT_API_RATE = 32.0
P99_TARGET_MS = 300
JUDGEMENT_RPS_TARGET = 300


def log(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- database


def database(args, tmp: Path) -> tuple[str, str, bool]:
    """(the load database's URL, the admin URL, whether we started the cluster)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    started = False
    if not url.startswith(("postgres://", "postgresql://")):
        env = {
            **os.environ,
            "CLOUDJUDGE_TEST_PG_PORT": str(args.pg_port),
            "CLOUDJUDGE_TEST_PG_DIR": args.pg_dir,
        }
        url = subprocess.run(
            [str(ROOT / "scripts" / "postgres-test-server"), "start"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        started = True
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{LOAD_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{LOAD_DB}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{LOAD_DB}")), url, started


def stop_database(args, admin_url: str, started: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{LOAD_DB}" WITH (FORCE)')
    if started:
        env = {
            **os.environ,
            "CLOUDJUDGE_TEST_PG_PORT": str(args.pg_port),
            "CLOUDJUDGE_TEST_PG_DIR": args.pg_dir,
        }
        subprocess.run([str(ROOT / "scripts" / "postgres-test-server"), "stop"], env=env)


# --------------------------------------------------------------------------- seeding


def seed(n: int, users: int, plan_path: Path) -> dict:
    """The register, each applicant's password and token, and the plan file."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cloudjudge.web.accounts.models import Role, User
    from cloudjudge.web.api.models import ApiToken
    from cloudjudge.web.register.models import Application, ChecklistItem
    from cloudjudge.web.register.permissions import CHECKLIST_OPEN_STATUSES
    from web import Seeder, example_requests

    call_command("migrate", verbosity=0)
    seeder = Seeder(n)
    seeder.people()
    seeder.services(max(50, n // 8))
    seeder.applications()
    encoded = make_password(PASSWORD)  # hashed once, the same for every account
    applicants = User.objects.filter(role=Role.APPLICANT).order_by("username")
    applicants.update(password=encoded, must_change_password=False)
    accounts = []
    for user in applicants:
        apps = []
        for app in Application.objects.filter(
            department_id=user.department_id, status__in=CHECKLIST_OPEN_STATUSES
        ).order_by("pk")[:20]:
            items = list(
                ChecklistItem.objects.filter(application=app, active=True).values_list(
                    "pk", flat=True
                )[:10]
            )
            if items:
                apps.append([app.pk, app.number, items])
        if apps:
            _, token = ApiToken.issue(user, name="load test")
            accounts.append(
                {
                    "username": user.username,
                    "password": PASSWORD,
                    "token": token,
                    "applications": apps,
                }
            )
    plan = {
        "accounts": accounts,
        "judgement_requests": [json.loads(body) for body in example_requests()],
        "register_pages": max(1, min(20, n // 50)),
    }
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return plan


def stored_counts() -> dict[str, int]:
    from cloudjudge.web.register.models import ChecklistItem, Evidence

    return {
        "evidence": Evidence.objects.count(),
        "edited": ChecklistItem.objects.filter(note__startswith="負荷試験").count(),
    }


# --------------------------------------------------------------------------- cost per request type


def request_costs(plan: dict, n: int, profile_dir: Path | None) -> None:
    """Each request type locust sends, made ``n`` times in this process
    through Django's test client (the whole middleware stack, the view, the
    queries, the template; no HTTP server, no network): this process's CPU
    milliseconds per request and the queries each one issues. The PostgreSQL
    server's own work is not in the CPU figure. With ``profile_dir``, a
    cProfile of each type is written there (``<type>.pstats``)."""
    import cProfile
    import random
    import warnings

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client

    # WhiteNoise finds no collected static folder (the app serves from the packages).
    warnings.filterwarnings("ignore", message="No directory at")
    rng = random.Random(14)
    account = plan["accounts"][0]
    people = Client(HTTP_HOST="127.0.0.1")
    if not people.login(username=account["username"], password=account["password"]):
        raise SystemExit("request costs: the seeded applicant cannot sign in")
    api = Client(HTTP_HOST="127.0.0.1")
    bodies = [json.dumps(body).encode() for body in plan["judgement_requests"]]
    apps = account["applications"]
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% cloudjudge load test\n%%EOF\n"

    def expect(response, status: int, what: str):
        if response.status_code != status:
            raise SystemExit(f"request costs: {what}: HTTP {response.status_code}")

    def judgement():
        expect(
            api.post(
                "/api/v1/judgements",
                rng.choice(bodies),
                content_type="application/json",
                headers={"Authorization": f"Bearer {account['token']}"},
            ),
            200,
            "judgement",
        )

    def register():
        page = rng.randint(1, plan["register_pages"])
        expect(people.get(f"/applications/?page={page}"), 200, "register list")

    def dashboard():
        expect(people.get("/"), 200, "dashboard")

    def application():
        expect(people.get(f"/applications/{rng.choice(apps)[0]}/"), 200, "application")

    def checklist():
        pk, _number, items = rng.choice(apps)
        note = f"費用測定 {rng.randint(1, 10**6)}"  # not counted as the load's edits
        answer = people.post(
            f"/applications/{pk}/checklist/{rng.choice(items)}/",
            {"status": "in_progress", "note": note},
        )
        expect(answer, 302, "checklist edit")

    def upload():
        pk, _number, items = rng.choice(apps)
        upload = SimpleUploadedFile(f"cost-{rng.randint(1, 10**6)}.pdf", pdf, "application/pdf")
        answer = people.post(
            f"/applications/{pk}/checklist/{rng.choice(items)}/evidence/", {"file": upload}
        )
        expect(answer, 302, "evidence upload")

    cases = [
        ("POST /api/v1/judgements", judgement, n * 5),
        ("register list", register, n),
        ("dashboard", dashboard, n),
        ("application", application, n),
        ("checklist edit", checklist, n),
        ("evidence upload", upload, n),
    ]
    log(f"\ncost per request type, in this process ({n}-{n * 5} requests each, test client):")
    log(f"{'request':28} {'cpu/request':>12} {'queries':>8}")
    for name, call, count in cases:
        for _ in range(3):
            call()
        seen: list[str] = []

        def counted(execute, sql, params, many, context, seen=seen):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            call()
        started = time.process_time()
        for _ in range(count):
            call()
        cpu_ms = (time.process_time() - started) * 1000 / count
        log(f"{name:28} {cpu_ms:10.2f}ms {len(seen):>8}")
        if profile_dir is not None:
            profile = cProfile.Profile()
            profile.runcall(lambda c=call, k=count: [c() for _ in range(k)])
            slug = name.replace("/", "_").replace(" ", "_").strip("_")
            profile.dump_stats(str(profile_dir / f"{slug}.pstats"))
    if profile_dir is not None:
        log(f"  cProfile of each type in {profile_dir}")
    log(f"  load average {tuple(round(x, 2) for x in os.getloadavg())}")


# --------------------------------------------------------------------------- server and load


def start_server(args, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            [str(BIN / "cloudjudge"), "serve", "--host", "127.0.0.1", "--port", str(args.port)],
            env={
                **env,
                "CLOUDJUDGE_WORKERS": str(args.workers),
                "CLOUDJUDGE_THREADS": str(args.threads),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"cloudjudge serve exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/accounts/login/", timeout=5):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit("cloudjudge serve did not start within 90 s")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def postmaster_pid(args, started: bool) -> int | None:
    """The PostgreSQL server's main process, when it is ours (its CPU time,
    its backends' included, is charged to the run); None for DATABASE_URL's."""
    if not started:
        return None
    try:
        return int((Path(args.pg_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_locust(args, env: dict[str, str], prefix: Path) -> None:
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "benchmarks" / "load_locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{args.port}",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        # A bound only: the locustfile stops the run args.time seconds after
        # the last user has signed in.
        "--run-time",
        f"{args.time + 180}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    subprocess.run(command, env=env, check=True, timeout=args.time + 300)


def report(
    prefix: Path, seconds: float, load_before, load_after, stored, before, cores: int
) -> None:
    ramp = json.loads((prefix.parent / "sign-ins.json").read_text(encoding="utf-8"))
    times = sorted(ramp["times_ms"])
    if times:
        log(
            f"\nsign-in (login page + form, Argon2): {len(times)} users in "
            f"{ramp.get('signed_in_after', 0):.1f} s; median {times[len(times) // 2]:.0f} ms, "
            f"max {times[-1]:.0f} ms (not in the figures below, which start when all are in)"
        )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(f"{prefix}_failures.csv", encoding="utf-8") as f:
        failures = list(csv.DictReader(f))
    log(
        f"\n{'request':28} {'count':>8} {'errors':>7} {'req/s':>8} {'median':>8} "
        f"{'p95':>8} {'p99':>8} {'max':>8}"
    )
    for row in rows:
        if row["Name"].startswith("sign in"):
            continue
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        log(
            f"{name:28} {row['Request Count']:>8} {row['Failure Count']:>7} "
            f"{float(row['Requests/s']):8.1f} {row['50%']:>6}ms {row['95%']:>6}ms "
            f"{row['99%']:>6}ms {float(row['Max Response Time']):6.0f}ms"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    judged = next((r for r in rows if r["Name"] == "POST /api/v1/judgements"), None)
    errors = int(total["Failure Count"])
    for failure in failures[:10]:
        log(f"  error: {failure['Name']}: {failure['Error']} ×{failure['Occurrences']}")

    counts = {r["Name"]: int(r["Request Count"]) - int(r["Failure Count"]) for r in rows}
    uploads = stored["evidence"] - before["evidence"]
    log(
        f"\nstored: {uploads} evidence files for {counts.get('evidence upload', 0)} uploads "
        f"answered; {stored['edited']} distinct checklist rows edited "
        f"({counts.get('checklist edit', 0)} edits answered)"
    )
    # Uploads still in flight when the run stopped are stored but not counted.
    if uploads < counts.get("evidence upload", 0):
        errors += counts.get("evidence upload", 0) - uploads
        log("  error: uploads answered but not stored")
    log(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    cpu_report(ramp.get("cpu", {}), int(total["Request Count"]), judged, cores)
    p99 = float(total["99%"])
    rps = float(judged["Requests/s"]) if judged else 0.0
    log(
        f"targets: errors {errors} (0: {'ok' if errors == 0 else 'MISSED'}); "
        f"p99 {p99:.0f} ms (< {P99_TARGET_MS}: {'ok' if p99 < P99_TARGET_MS else 'MISSED'}); "
        f"judgements {rps:.0f}/s (>= {JUDGEMENT_RPS_TARGET}: "
        f"{'ok' if rps >= JUDGEMENT_RPS_TARGET else 'MISSED'}); {seconds:.0f} s measured"
    )


def cpu_report(cpu: dict[str, float], requests: int, judged, cores: int) -> None:
    """Where the cores went in the measured period: the CPU seconds of the
    server (gunicorn and its workers), PostgreSQL (its backends) and locust,
    per request. A shared machine stretches times, not CPU seconds, so these
    compare across runs made under different loads; the capacity line is the
    request rate at which these costs would fill ``cores`` cores (an estimate
    for a machine the run has to itself, not a measurement)."""
    seconds = cpu.pop("seconds", 0.0)
    if not cpu or not requests or not seconds:
        return
    total = sum(cpu.values())
    parts = ", ".join(
        f"{name} {used:.1f} s ({used * 1000 / requests:.2f} ms/request)"
        for name, used in cpu.items()
    )
    log(
        f"CPU in {seconds:.0f} s measured: {parts}; "
        f"in all {total / seconds:.2f} cores busy, {total * 1000 / requests:.2f} ms/request"
    )
    if judged is not None and total:
        share = int(judged["Request Count"]) / requests
        capacity = cores * requests / total
        log(
            f"  at these costs {cores} cores would serve ≈ {capacity:.0f} requests/s of this "
            f"mix, ≈ {capacity * share:.0f} judgements/s (an estimate, not a measurement)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users", type=int, default=50, help="people and integrations together (default 50)"
    )
    parser.add_argument(
        "--api-users",
        type=int,
        default=DEFAULT_API_USERS,
        help=f"of --users, integrations calling the judgement API with a token, no "
        f"sign-in, at --api-rate (default {DEFAULT_API_USERS}; the rest are people)",
    )
    parser.add_argument(
        "--api-rate",
        type=float,
        default=DEFAULT_API_RATE,
        help=f"judgements/s each integration sends at most (default {DEFAULT_API_RATE:g}; "
        "0: as fast as answered)",
    )
    parser.add_argument(
        "--think",
        default=DEFAULT_THINK,
        help=f"seconds a person waits between two actions, MIN-MAX (default {DEFAULT_THINK}; "
        "0 for none)",
    )
    parser.add_argument("--time", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8161)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("CLOUDJUDGE_WORKERS", 6)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("CLOUDJUDGE_THREADS", 2)))
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument(
        "--mix", default=DEFAULT_MIX, help=f"people's task weights (default {DEFAULT_MIX})"
    )
    parser.add_argument("--pg-port", type=int, default=25347)
    parser.add_argument("--pg-dir", default="/tmp/cloudjudge-bench-pg")
    parser.add_argument(
        "--costs",
        type=int,
        default=20,
        metavar="N",
        help="first measure each request type N times in this process, CPU and queries "
        "(default 20; 0 to skip)",
    )
    parser.add_argument("--profile-dir", help="with --costs: write a cProfile of each type here")
    parser.add_argument("--keep", action="store_true", help="keep the folder with logs and CSV")
    args = parser.parse_args(argv)
    low, _, high = args.think.partition("-")
    think = [float(low), float(high or low)]
    if not 0 <= args.api_users <= args.users:
        parser.error("--api-users is between 0 and --users")
    weights = {k.strip(): int(v) for k, v in (p.split("=") for p in args.mix.split(","))}

    tmp = Path(tempfile.mkdtemp(prefix="cloudjudge-load-"))
    url, admin_url, started = database(args, tmp)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cloudjudge.web.settings",
        "DATABASE_URL": url,
        "CLOUDJUDGE_DEBUG": "0",
        "CLOUDJUDGE_SECRET_KEY": secrets.token_urlsafe(50),
        "CLOUDJUDGE_SSL_REDIRECT": "0",
        "CLOUDJUDGE_HSTS_SECONDS": "0",
        "CLOUDJUDGE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CLOUDJUDGE_VAR_DIR": str(tmp / "var"),
        "CLOUDJUDGE_MEDIA_ROOT": str(tmp / "media"),
        "CLOUDJUDGE_CONN_MAX_AGE": str(args.conn_max_age),
        "CLOUDJUDGE_LOG_LEVEL": "WARNING",
        "CLOUDJUDGE_LOAD_PLAN": str(tmp / "plan.json"),
        "CLOUDJUDGE_LOAD_USERS": str(args.users),
        "CLOUDJUDGE_LOAD_SECONDS": str(args.time),
        "CLOUDJUDGE_LOAD_SIGN_INS": str(tmp / "sign-ins.json"),
    }
    os.environ.update(env)
    server = None
    try:
        log(f"seeding {args.applications} applications on PostgreSQL ({LOAD_DB}) ...")
        started_at = time.perf_counter()
        plan = seed(args.applications, args.users, tmp / "plan.json")
        plan["weights"] = weights
        plan["people"] = args.users - args.api_users
        plan["think"] = think
        plan["api_rate"] = args.api_rate
        (tmp / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        log(f"  {len(plan['accounts'])} accounts, {time.perf_counter() - started_at:.0f} s")
        if args.costs:
            profile_dir = Path(args.profile_dir) if args.profile_dir else None
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
            request_costs(plan, args.costs, profile_dir)
        before = stored_counts()
        from django.db import connections

        connections.close_all()
        server = start_server(args, env, tmp / "server.log")
        pids = {"server": server.pid, "postgres": postmaster_pid(args, started)}
        env["CLOUDJUDGE_LOAD_CPU_PIDS"] = ",".join(f"{k}={v}" for k, v in pids.items() if v)
        log(
            f"cloudjudge serve on 127.0.0.1:{args.port}: {args.workers} workers × "
            f"{args.threads} threads, CONN_MAX_AGE {args.conn_max_age}; locust for "
            f"{args.time} s: {args.users - args.api_users} people (think time "
            f"{think[0]:g}–{think[1]:g} s, mix {args.mix}) and {args.api_users} integrations "
            "(POST /api/v1/judgements, "
            + (f"at most {args.api_rate:g}/s each)" if args.api_rate > 0 else "no pause)")
        )
        load_before = tuple(round(x, 2) for x in os.getloadavg())
        run_locust(args, env, tmp / "load")
        load_after = tuple(round(x, 2) for x in os.getloadavg())
        stop_server(server)
        server = None
        report(
            tmp / "load",
            args.time,
            load_before,
            load_after,
            stored_counts(),
            before,
            os.cpu_count() or 1,
        )
        connections.close_all()
    finally:
        if server is not None:
            stop_server(server)
        stop_database(args, admin_url, started)
        if args.keep:
            log(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
