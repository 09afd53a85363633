"""Re-judging the register against another criteria version.

``report(catalog)`` changes nothing: it judges the request each application
not ended was last judged with (the facts and the registry's answer recorded
in its latest judgement) against ``catalog`` and says, per application, how
the verdict, the approvals and the required items would change, worst first
(anything → 禁止 on top).

``apply(catalog, actor)`` makes it so, through the one judgement recorder
(``judging.judge_applications(batch, catalog=catalog)``, of which
``judge_application`` is the batch of one): a new snapshot, the
checklist rows that follow it (work on unchanged items kept, rows no longer
required closed with a note), and 見直しが必要 for a verdict that got worse. It
works in batches, each one transaction that also moves the run's record
(:class:`RejudgeRun`) past its last application, so a run cut off at any
point leaves no application half re-judged and resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cloudjudge.catalog import Catalog, CatalogError
from cloudjudge.catalog.versions import find_catalog, newer_versions
from cloudjudge.engine import RequestError, judge_for, parse_request
from cloudjudge.labels import VERDICT_LABELS
from cloudjudge.web.register.judging import criteria, judge_applications
from cloudjudge.web.register.models import Application, RejudgeRun, Status
from cloudjudge.web.register.workflow import VERDICT_RANK

#: Applications re-judged per transaction by ``apply``.
BATCH_SIZE = 100

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Change:
    """How one application's judgement would change."""

    application_id: int
    number: str
    service: str
    department: str
    status: str
    old_version: str
    old_verdict: str
    new_verdict: str
    approvals_added: tuple[str, ...]
    approvals_removed: tuple[str, ...]
    required_added: tuple[str, ...]
    required_removed: tuple[str, ...]

    @property
    def verdict_changed(self) -> bool:
        return self.old_verdict != self.new_verdict

    @property
    def worse(self) -> bool:
        return VERDICT_RANK[self.new_verdict] > VERDICT_RANK[self.old_verdict]

    @property
    def changed(self) -> bool:
        return bool(
            self.verdict_changed
            or self.approvals_added
            or self.approvals_removed
            or self.required_added
            or self.required_removed
        )

    @property
    def verdict_words(self) -> str:
        old, new = VERDICT_LABELS[self.old_verdict], VERDICT_LABELS[self.new_verdict]
        return f"{old} → {new}" if self.verdict_changed else f"{new}（変更なし）"

    def order(self) -> tuple[int, int, int, str]:
        """Worst first: anything → 禁止, then by how much worse, then most changes."""
        rise = VERDICT_RANK[self.new_verdict] - VERDICT_RANK[self.old_verdict]
        size = len(self.required_added) + len(self.required_removed)
        return (-(self.new_verdict == "prohibited" and rise > 0), -rise, -size, self.number)


@dataclass(frozen=True)
class Report:
    catalog: Catalog
    changes: tuple[Change, ...]
    #: Applications looked at (not ended, judged at least once).
    total: int
    #: Applications whose recorded request the engine refuses now (shown, not judged).
    unreadable: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.changed)

    @property
    def worse(self) -> int:
        return sum(1 for c in self.changes if c.worse)


def candidates() -> QuerySet[Application]:
    """Every application not ended that has been judged, in primary-key order."""
    return (
        Application.objects.exclude(status=Status.ENDED)
        .filter(latest_judgement__isnull=False)
        .order_by("pk")
    )


def _ids(values: Iterable[Mapping[str, Any]]) -> list[str]:
    return [entry["id"] for entry in values]


def _differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return (
        old["verdict"] != new["verdict"]
        or set(old["approvals"]) != set(new["approvals"])
        or set(_ids(old["required"])) != set(_ids(new["required"]))
    )


def _change(
    old: Mapping[str, Any], new: Mapping[str, Any], version: str, **application: Any
) -> Change:
    """The change from decision ``old`` (made with ``version``) to ``new``."""
    old_required, new_required = _ids(old["required"]), _ids(new["required"])
    return Change(
        **application,
        old_version=version,
        old_verdict=old["verdict"],
        new_verdict=new["verdict"],
        approvals_added=tuple(a for a in new["approvals"] if a not in old["approvals"]),
        approvals_removed=tuple(a for a in old["approvals"] if a not in new["approvals"]),
        required_added=tuple(i for i in new_required if i not in old_required),
        required_removed=tuple(i for i in old_required if i not in new_required),
    )


def report(catalog: Catalog, progress: Progress | None = None) -> Report:
    """What re-judging against ``catalog`` would change; nothing is written."""
    judge = judge_for(catalog)
    rows = candidates().values_list(
        "pk",
        "number",
        "status",
        "service__name",
        "department__name",
        "latest_judgement__criteria_version",
        "latest_judgement__request",
        "latest_judgement__decision",
    )
    total = rows.count()
    changes = []
    unreadable = []
    for done, row in enumerate(rows.iterator(chunk_size=2_000), start=1):
        pk, number, status, service, department, version, request, decision = row
        try:
            new = judge.decide(parse_request(request))
        except RequestError:
            unreadable.append(number)
            continue
        changes.append(
            _change(
                decision,
                new,
                version,
                application_id=pk,
                number=number,
                service=service,
                department=department or "",
                status=status,
            )
        )
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)
    changes.sort(key=Change.order)
    return Report(catalog, tuple(changes), total, tuple(unreadable))


# --------------------------------------------------------------------------- apply


class NotInForce(CatalogError):
    """Applying a version before it is the one the register judges with."""


def check_applicable(catalog: Catalog) -> None:
    """A version is applied only once it is the one judged with (in force, or
    pinned): otherwise the next edit of an application would judge it back."""
    current = criteria()
    if current.label != catalog.label:
        since = f"施行日 {catalog.effective:%Y-%m-%d} まで" if catalog.effective else "現在"
        raise NotInForce(
            f"判断基準 {catalog.label} は{since}判定に使う版ではありません"
            f"（今は {current.label}）。"
            "施行日以降に適用するか、CLOUDJUDGE_CATALOG_VERSION で版を固定してください。"
            "影響の確認（--dry-run）はいつでもできます。"
        )


def open_run(catalog: Catalog) -> RejudgeRun | None:
    """The run of ``catalog`` that was started and did not finish, if any."""
    return (
        RejudgeRun.objects.filter(catalog_label=catalog.label, finished_at__isnull=True)
        .order_by("-id")
        .first()
    )


def start(catalog: Catalog, actor=None) -> RejudgeRun:
    """The unfinished run of ``catalog`` to resume, or a new one."""
    check_applicable(catalog)
    run = open_run(catalog)
    if run is None:
        run = RejudgeRun.objects.create(
            catalog_label=catalog.label, started_by=actor, total=candidates().count()
        )
    return run


def _batches(run: RejudgeRun, size: int) -> Iterator[list[int]]:
    while True:
        batch = list(
            candidates().filter(pk__gt=run.last_application_id).values_list("pk", flat=True)[:size]
        )
        if not batch:
            return
        yield batch


def apply(
    catalog: Catalog,
    actor=None,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
) -> RejudgeRun:
    """Re-judge every candidate against ``catalog``, resuming an unfinished run.
    ``max_batches`` stops after that many batches (the page works in steps)."""
    run = start(catalog, actor)
    for n, batch in enumerate(_batches(run, batch_size)):
        if max_batches is not None and n >= max_batches:
            return run
        with transaction.atomic():
            applications = list(
                Application.objects.select_for_update(of=("self",))
                .filter(pk__in=batch)
                .select_related("service", "latest_judgement")
                .order_by("pk")
            )
            before = [(a.latest_judgement, a.status) for a in applications]
            judged = judge_applications(applications, actor, catalog=catalog)
            for application, (previous, was), judgement in zip(
                applications, before, judged, strict=True
            ):
                if isinstance(judgement, RequestError):
                    continue  # facts no longer complete: left as it was, shown by report()
                if previous is not None and judgement.pk != previous.pk:
                    if judgement.verdict != previous.verdict or _ids(
                        judgement.decision["required"]
                    ) != _ids(previous.decision["required"]):
                        run.changed += 1
                    if application.status == Status.NEEDS_REVIEW and was != Status.NEEDS_REVIEW:
                        run.worsened += 1
            run.done += len(batch)
            run.last_application_id = batch[-1]
            run.save(update_fields=["done", "last_application_id", "changed", "worsened"])
        if progress is not None:
            progress(run.done, run.total)
    run.finished_at = timezone.now()
    run.done = max(run.done, run.total)
    run.save(update_fields=["finished_at", "done"])
    return run


# --------------------------------------------------------------------------- one application


@dataclass(frozen=True)
class Newer:
    """What a newer installed version would say of a kept judgement."""

    label: str
    verdict: str
    differs: bool
    change: Change | None


def newer_judgements(application: Application) -> list[Newer]:
    """For the application page: each installed version newer than the one
    its latest judgement was made with, and whether it would judge differently."""
    latest = application.latest_judgement
    if latest is None:
        return []
    try:
        kept = find_catalog(latest.criteria_version)
    except CatalogError:
        return []
    try:
        request = parse_request(latest.request)
    except RequestError:
        return []
    out = []
    for catalog in newer_versions(kept):
        new = judge_for(catalog).decide(request)
        change = _change(
            latest.decision,
            new,
            latest.criteria_version,
            application_id=application.pk,
            number=application.number,
            service="",
            department="",
            status=application.status,
        )
        out.append(Newer(catalog.label, new["verdict"], change.changed, change))
    return out
