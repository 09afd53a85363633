"""Shared bits of the ``registry_*`` management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from cloudjudge import registries as core

KIND_HELP = "リストの種類: " + "、".join(f"{k}（{core.KIND_LABELS[k]}）" for k in core.KINDS)
#: Exit status for invalid input (as the rest of the ``cloudjudge`` command).
EXIT_INVALID = 2


def check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in core.KINDS:
        raise CommandError(
            f"未知のリストの種類です: {kind}（{', '.join(core.KINDS)} のいずれか）",
            returncode=EXIT_INVALID,
        )
    return kind
