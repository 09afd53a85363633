"""When an ISMAP / ISMAP-LIU registration expires, and what an entry means on a day.

ISMAP基本規程 3.5 (登録の更新):

    登録の有効期限は、登録の対象となった監査の対象期間の末日の翌日から
    1年4ヶ月後までとする。… 登録の更新の申請を行った日から当該申請に対する
    登録の更新の判断がISMAP運営委員会でなされるまでは、有効期限以降も
    引き続き登録を有効とする。

The period is counted the way 民法 (Civil Code) 第140条・第143条 counts every
period in a Japanese rule that does not say otherwise:

* it starts on the day after the end of the audit period (the 起算日);
* a period of months ends on the day *before* the day of the last month that
  corresponds to the 起算日 (応当日の前日);
* when the last month has no corresponding day, it ends on that month's last day.

``expiry_date`` returns that last day, and the registration is valid **through it
(inclusive)**; it is expired from the next day, unless a renewal is pending.

Examples (audit end → 起算日 → expiry, the last valid day):

* 2024-03-31 → 2024-04-01 → 2025-07-31 (the 応当日 2025-08-01, less one day)
* 2024-06-15 → 2024-06-16 → 2025-10-15
* 2024-10-30 → 2024-10-31 → 2026-02-28 (no 2026-02-31: the month's last day)
* 2023-10-30 → 2023-10-31 → 2025-02-28; 2022-10-30 → 2022-10-31 → 2024-02-29 (leap)

Reading "1年4ヶ月後まで" as the 応当日 itself (2025-08-01 for the first example)
would keep a registration valid one day longer; for a gate on important data the
Civil Code reading is both the lawful default and the cautious one.

LGWAN-ASP has no expiry rule: its entries stay listed until withdrawn.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal

from cloudjudge.registries.entries import EXPIRING_KINDS, RegistryEntry

#: Months from the day after the audit period ends to the end of validity.
VALIDITY_MONTHS = 16

#: Default look-ahead, in days, for "will expire soon".
DEFAULT_DAYS_AHEAD = 90

ListingStatus = Literal[
    "valid",
    "expiring",
    "renewal_pending",
    "renewal_late",
    "expired",
    "withdrawn",
    "lapsed",
    "suspended",
    "not_yet_registered",
]

#: Statuses under which the entry counts as a listing on that day.
LISTED_STATUSES: frozenset[str] = frozenset({"valid", "expiring", "renewal_pending"})

#: Statuses that ``cloudjudge registry check`` reports (with "unknown" for a
#: service that matches no entry, which the matcher decides, not this module).
ALERT_STATUSES: frozenset[str] = frozenset(
    {"expiring", "expired", "renewal_late", "withdrawn", "lapsed", "suspended"}
)

#: Japanese labels for reports and the dashboard.
STATUS_LABELS: dict[str, str] = {
    "valid": "有効",
    "expiring": "期限間近",
    "renewal_pending": "更新申請中（有効期限経過後も有効）",
    "renewal_late": "期限切れ（更新申請が有効期限の後）",
    "expired": "期限切れ",
    "withdrawn": "取下げ・登録取消",
    "lapsed": "失効",
    "suspended": "一時停止",
    "not_yet_registered": "登録日より前",
}


def period_end(start: date, months: int) -> date:
    """The last day of a period of ``months`` months whose first day is ``start``
    (民法第143条: 応当日の前日, or the last day of the month without one)."""
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    if start.day > last_day:
        return date(year, month, last_day)
    return date(year, month, start.day) - timedelta(days=1)


def expiry_from_audit_end(audit_period_end: date) -> date:
    """The last valid day of a registration whose audit period ended on the given day."""
    return period_end(audit_period_end + timedelta(days=1), VALIDITY_MONTHS)


def expiry_date(entry: RegistryEntry) -> date | None:
    """The last day the registration is valid (inclusive), by ISMAP基本規程 3.5.

    ``None`` for LGWAN-ASP (no expiry rule) and for an entry without an audit
    period end (only possible for a withdrawn one). A pending renewal does not
    move this date; ``status_on`` and ``is_listed_on`` take it into account.
    """
    if entry.kind not in EXPIRING_KINDS or entry.audit_period_end is None:
        return None
    return expiry_from_audit_end(entry.audit_period_end)


def status_on(
    entry: RegistryEntry, day: date, *, days_ahead: int = DEFAULT_DAYS_AHEAD
) -> ListingStatus:
    """What the entry means on ``day``.

    * ``withdrawn``, ``lapsed`` (失効), ``suspended`` (一時停止) — as the list
      says, from the day it gives (``status_since``) or whatever the day;
      never a listing. A withdrawal outranks a lapse, a lapse a suspension.
    * ``not_yet_registered`` — ``day`` is before the registration date.
    * ``expired`` — past the expiry date with no renewal pending.
    * ``renewal_pending`` — past the expiry date, still valid because a renewal
      application is pending (3.5 ただし書) and was made by the expiry date
      (or the list does not say when).
    * ``renewal_late`` — past the expiry date, renewal pending, but applied for
      after the expiry date: the registration ended at its expiry (3.5).
    * ``expiring`` — valid, and the last valid day falls within ``days_ahead``
      days counting ``day`` itself (``day <= expiry < day + days_ahead``), with
      no renewal pending. ``days_ahead=0`` never gives ``expiring``.
    * ``valid`` — otherwise (every LGWAN-ASP entry that is not withdrawn; an
      ISMAP entry before its expiry whose renewal is already pending).
    """
    if days_ahead < 0:
        raise ValueError("days_ahead は 0 以上にしてください")
    standing = ended_status(entry, day)
    if standing is not None:
        return standing
    if entry.registered_on is not None and day < entry.registered_on:
        return "not_yet_registered"
    expiry = expiry_date(entry)
    if expiry is None:
        return "valid"
    if day > expiry:
        if not entry.renewal_pending:
            return "expired"
        applied = entry.renewal_applied_on
        return "renewal_late" if applied is not None and applied > expiry else "renewal_pending"
    if not entry.renewal_pending and (expiry - day).days < days_ahead:
        return "expiring"
    return "valid"


def ended_status(entry: RegistryEntry, day: date) -> ListingStatus | None:
    """``withdrawn``, ``lapsed`` or ``suspended`` when the list says so for
    ``day``; ``None`` otherwise."""
    if entry.status_since is not None and day < entry.status_since:
        return None
    if entry.withdrawn:
        return "withdrawn"
    if entry.lapsed:
        return "lapsed"
    if entry.suspended:
        return "suspended"
    return None


def pending_days(entry: RegistryEntry, day: date) -> tuple[int | None, int | None]:
    """For a renewal pending past the expiry: (days since the expiry date, days
    since the application where the list gives it); ``None`` where unknown."""
    expiry = expiry_date(entry)
    past = (day - expiry).days if expiry is not None and day > expiry else None
    applied = entry.renewal_applied_on
    return past, (day - applied).days if applied is not None else None


def is_listed_on(entry: RegistryEntry, day: date) -> bool:
    """Whether the entry counts as a listing on ``day``: expired (without a
    pending renewal), withdrawn or not yet registered entries do not."""
    return status_on(entry, day, days_ahead=0) in LISTED_STATUSES


def days_left(entry: RegistryEntry, day: date) -> int | None:
    """Days from ``day`` to the expiry date (0 on the last valid day, negative
    once past it); ``None`` when the entry has no expiry."""
    expiry = expiry_date(entry)
    return None if expiry is None else (expiry - day).days
