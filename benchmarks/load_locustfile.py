"""The users of ``benchmarks/load.py`` (run by locust there; not on its own).

Two kinds of user, in the numbers the plan file ``CLOUDJUDGE_LOAD_PLAN``
(written by load.py) gives:

* ``Applicant`` — a person: one applicant of the seeded register (its name,
  password and its department's applications come from the plan). It signs
  in through the login form once, then picks one task by weight: lists the
  register, opens the dashboard or one of its applications, edits a
  checklist row (the form, with the CSRF token), uploads a small evidence
  file or calls ``POST /api/v1/judgements``; between two tasks it waits the
  plan's think time (``think``: [min, max] seconds; [0, 0] is none).
* ``Integration`` — another system of the city calling
  ``POST /api/v1/judgements`` with an API token (it does not sign in: a
  token is all it has), at most ``api_rate`` calls per second (locust's
  ``constant_throughput``), or without pause when it is 0.

Every answer is checked: a wrong status, a login that does not land on the
dashboard, a page without what it must show, counts as an error.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import os
import random
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, constant, constant_throughput, events, task

with open(os.environ["CLOUDJUDGE_LOAD_PLAN"], encoding="utf-8") as _f:
    PLAN = json.load(_f)
ACCOUNTS = itertools.cycle(PLAN["accounts"])
BODIES = [json.dumps(body).encode() for body in PLAN["judgement_requests"]]
WEIGHTS = PLAN["weights"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% cloudjudge load test\n%%EOF\n"
BOUNDARY = "cloudjudgeloadboundary"


#: Everyone signs in first (Argon2 costs a core ~0.1-0.5 s per login, on
#: purpose); the measured period starts when the last user is in, with fresh
#: statistics, and lasts DURATION seconds. The sign-ins are reported apart.
USERS = int(os.environ["CLOUDJUDGE_LOAD_USERS"])  # people and integrations
PEOPLE = int(PLAN.get("people", USERS))
THINK = PLAN.get("think", [0, 0])
#: Judgements per second each integration sends at most (0: as fast as answered).
API_RATE = float(PLAN.get("api_rate", 0))
DURATION = float(os.environ["CLOUDJUDGE_LOAD_SECONDS"])
SIGN_INS_FILE = os.environ["CLOUDJUDGE_LOAD_SIGN_INS"]
ALL_IN = Event()
SIGNED_IN: list[float] = []
RAMP: dict[str, float] = {}


def _weight(name: str):
    return WEIGHTS.get(name, 0)


class _LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """The server runs as in production (Secure cookies); the load runs on
    plain loopback HTTP, so the cookies are sent back as a browser sends them
    over HTTPS."""

    def return_ok_secure(self, cookie, request):
        return True


#: Processes whose CPU time the measured period is charged with: "server=PID,
#: postgres=PID" from load.py; locust itself is added here.
CPU_PIDS = {
    name: int(pid)
    for name, _, pid in (
        part.partition("=") for part in os.environ.get("CLOUDJUDGE_LOAD_CPU_PIDS", "").split(",")
    )
    if pid
}
CPU: dict[str, float] = {}


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and every process
    under it, the children it has already reaped included (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, list[str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), fields)  # ppid, the fields after the name
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            fields = stats[pid][1]
            # utime, stime, cutime, cstime (fields 14-17 of stat; 11-14 after the name)
            total += sum(int(x) for x in fields[11:15])
        todo.extend(children.get(pid, []))
    return total / ticks


def _cpu_snapshot() -> dict[str, float]:
    return {name: _tree_cpu(pid) for name, pid in {**CPU_PIDS, "locust": os.getpid()}.items()}


def _measured_period(environment) -> None:
    RAMP["signed_in_after"] = time.monotonic() - RAMP["start"]
    environment.runner.stats.reset_all()
    before = _cpu_snapshot()
    started = time.monotonic()
    ALL_IN.set()
    gevent.sleep(DURATION)
    after = _cpu_snapshot()
    CPU.update({name: after[name] - before[name] for name in after})
    CPU["seconds"] = time.monotonic() - started
    environment.runner.quit()


@events.test_start.add_listener
def _started(environment, **_kwargs):
    RAMP["start"] = time.monotonic()


@events.quitting.add_listener
def _quitting(environment, **_kwargs):
    with open(SIGN_INS_FILE, "w", encoding="utf-8") as f:
        json.dump({"times_ms": SIGNED_IN, **RAMP, "cpu": CPU}, f)


READY: list[int] = []


def _ready(environment) -> None:
    """One more user is ready; the last one starts the measured period."""
    READY.append(1)
    if len(READY) == USERS:
        gevent.spawn(_measured_period, environment)
    ALL_IN.wait()


def _judge(client, token: str) -> None:
    with client.post(
        "/api/v1/judgements",
        data=random.choice(BODIES),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        name="POST /api/v1/judgements",
        catch_response=True,
    ) as answer:
        if answer.status_code != 200 or b'"verdict"' not in answer.content:
            answer.failure(f"HTTP {answer.status_code}")


class Integration(FastHttpUser):
    """Another system calling the API: at most API_RATE calls/s, or flat out."""

    fixed_count = USERS - PEOPLE
    abstract = fixed_count == 0  # locust leaves abstract classes out
    wait_time = constant_throughput(API_RATE) if API_RATE > 0 else constant(0)
    concurrency = 1

    def on_start(self) -> None:
        self.token = next(ACCOUNTS)["token"]
        _ready(self.environment)

    @task
    def judgement(self) -> None:
        _judge(self.client, self.token)


class Applicant(FastHttpUser):
    fixed_count = PEOPLE
    abstract = fixed_count == 0
    wait_time = between(*THINK) if THINK[1] > 0 else constant(0)
    # One connection per user, kept alive, as a browser does.
    concurrency = 1

    def on_start(self) -> None:
        account = next(ACCOUNTS)
        self.account = account
        self.token = account["token"]
        self.applications = account["applications"]  # [[pk, number, [item pk, ...]], ...]
        self.client.cookiejar.set_policy(_LoopbackPolicy())
        started = time.perf_counter()
        self.sign_in()
        SIGNED_IN.append((time.perf_counter() - started) * 1000)
        _ready(self.environment)
        # A person reads the page the sign-in led to before the first action.
        # Without this pause every person clicked at the same instant when the
        # measured period began, and that one burst of 40 requests, each
        # waiting behind the others for up to a second, was the pages' whole
        # p95 and p99 (a log of every request: all 35 of 398 over 300 ms had
        # started at that instant; on the wire, the server's answers took at
        # most 162 ms). Real people never click in step.
        gevent.sleep(random.uniform(*THINK))

    # --- helpers

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def sign_in(self) -> None:
        with self.client.get(
            "/accounts/login/", name="sign in (form)", catch_response=True
        ) as page:
            if page.status_code != 200:
                page.failure(f"login page: HTTP {page.status_code}")
                return
        body = (
            f"csrfmiddlewaretoken={self.csrf()}&username={self.account['username']}"
            f"&password={self.account['password']}&next=/"
        )
        with self.client.post(
            "/accounts/login/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or answer.headers.get("Location") != "/":
                answer.failure(f"sign in: HTTP {answer.status_code}")

    def page(self, path: str, name: str, must_contain: str = "") -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code} {answer.headers.get('Location', '')}")
            elif must_contain and must_contain not in answer.text:
                answer.failure(f"{must_contain!r} is not on the page")

    def some_application(self):
        return random.choice(self.applications)

    # --- tasks

    @task(_weight("judgement"))
    def judgement(self) -> None:
        _judge(self.client, self.token)

    @task(_weight("register"))
    def register_list(self) -> None:
        page = random.randint(1, PLAN["register_pages"])
        self.page(f"/applications/?page={page}", "register list", "CJ-")

    @task(_weight("dashboard"))
    def dashboard(self) -> None:
        self.page("/", "dashboard")

    @task(_weight("application"))
    def application(self) -> None:
        pk, number, _items = self.some_application()
        self.page(f"/applications/{pk}/", "application", number)

    @task(_weight("checklist"))
    def checklist_edit(self) -> None:
        pk, _number, items = self.some_application()
        item = random.choice(items)
        body = (
            f"csrfmiddlewaretoken={self.csrf()}&status=in_progress"
            f"&note=%E8%B2%A0%E8%8D%B7%E8%A9%A6%E9%A8%93+{random.randint(1, 10**6)}"
        )
        with self.client.post(
            f"/applications/{pk}/checklist/{item}/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            name="checklist edit",
            catch_response=True,
        ) as answer:
            if (
                answer.status_code != 302
                or answer.headers.get("Location") != f"/applications/{pk}/"
            ):
                answer.failure(f"HTTP {answer.status_code}")

    @task(_weight("upload"))
    def evidence_upload(self) -> None:
        pk, _number, items = self.some_application()
        item = random.choice(items)
        body = (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
                f"\r\n\r\n{self.csrf()}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="load-{random.randint(1, 10**6)}.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + PDF
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        target = f"/applications/{pk}/checklist/{item}/"
        with self.client.post(
            target + "evidence/",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            allow_redirects=False,
            name="evidence upload",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or answer.headers.get("Location") != target:
                answer.failure(f"HTTP {answer.status_code}")
