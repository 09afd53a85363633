"""``{{ value|city_date }}`` and ``{{ value|city_datetime }}`` in every template:
the city's date convention.

Registered as a template builtin (settings.TEMPLATES), so no ``{% load %}``.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import template
from django.conf import settings
from django.utils import timezone

from cloudjudge.presentation.dates import DateStyle, format_date, format_datetime

register = template.Library()


def date_style() -> DateStyle:
    """The city's ``CLOUDJUDGE_DATE_STYLE`` (checked against ``DATE_STYLES`` in settings)."""
    return cast(DateStyle, settings.CLOUDJUDGE_DATE_STYLE)


def city_date(value: dt.date | dt.datetime | None) -> str:
    """The date as the city writes it (``CLOUDJUDGE_DATE_STYLE``), in local time."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_date(value, date_style())


def city_datetime(value: dt.datetime | None) -> str:
    """The date as the city writes it and the local time: 「令和8年12月3日 14:05」."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, date_style())


register.filter("city_date", city_date)
register.filter("city_datetime", city_datetime)
