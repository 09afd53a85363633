"""``manage.py check``: the retention must cover the year the criteria ask for
(別紙1 ① No.6: logs kept at least one year)."""

from __future__ import annotations

from django.core import checks

from cloudjudge.web.audit import conf


def retention_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    days = conf.retention_days()
    if days < 366:
        return [
            checks.Warning(
                f"CLOUDJUDGE_AUDIT_RETENTION_DAYS is {days}: audit logs must be kept at "
                "least one year.",
                hint="Use 366 or more (the default is 400).",
                id="cloudjudge_audit.W001",
            )
        ]
    return []


def register() -> None:
    checks.register(retention_check, checks.Tags.security)
