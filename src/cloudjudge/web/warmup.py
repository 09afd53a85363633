"""What a server process would otherwise do on its first requests, done once
at start-up, before gunicorn forks its workers (``preload_app``), so that no
user waits for it and every worker shares the result: importing every view
(the URL resolver), loading the translations and compiling our templates,
about 0.5 s of CPU (measured in one process). A template that does not
compile now stops the start instead of failing one user's request.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.autoreload import get_template_directories
from django.urls import get_resolver
from django.utils import translation

import cloudjudge.web

WEB = Path(cloudjudge.web.__file__).resolve().parent


def our_template_names() -> list[str]:
    """Every template of cloudjudge's own, by the name views ask for."""
    names = []
    for folder in get_template_directories():
        folder = Path(folder).resolve()
        if folder.is_relative_to(WEB):
            names += [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*.html"))]
    return names


def warm_up() -> int:
    """Compile our templates (into the cached loader), import every view
    (the URL resolver) and load each language's translations; the number of
    templates compiled."""
    get_resolver().url_patterns  # noqa: B018 - imports the views
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Register")
    engine = engines["django"]
    names = our_template_names()
    for name in names:
        engine.get_template(name)
    return len(names)
