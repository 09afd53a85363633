"""The server's start-up work (``cloudjudge.web.warmup``, run by the WSGI
module before gunicorn forks its workers)."""

from __future__ import annotations

from cloudjudge.web.warmup import our_template_names, warm_up


def test_every_template_of_ours_compiles_before_the_first_request():
    names = our_template_names()
    assert {"base.html", "register/detail.html", "register/dashboard.html"} <= set(names)
    assert not [n for n in names if n.startswith(("admin/", "django/"))]
    assert warm_up() == len(names)
