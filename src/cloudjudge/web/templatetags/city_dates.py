"""``{{ value|city_date }}`` in every template: the city's date convention.

Registered as a template builtin (settings.TEMPLATES), so no ``{% load %}``.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import template
from django.conf import settings
from django.utils import timezone

from cloudjudge.presentation.dates import DateStyle, format_date

register = template.Library()


def city_date(value: dt.date | dt.datetime | None) -> str:
    """The date as the city writes it (``CLOUDJUDGE_DATE_STYLE``), in local time."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_date(value, cast(DateStyle, settings.CLOUDJUDGE_DATE_STYLE))


register.filter("city_date", city_date)
