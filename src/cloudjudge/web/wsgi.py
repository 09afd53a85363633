"""WSGI entry point: ``cloudjudge.web.wsgi:application``."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudjudge.web.settings")

application = get_wsgi_application()

from cloudjudge.web.warmup import warm_up  # noqa: E402 - needs the settings above

warm_up()

# What start-up made (Django, the apps, the compiled catalog) lives as long as
# the process: moved out of the collector's generations, so that the full
# collection a page with a long checklist triggers every dozen requests does
# not walk it again (~60-100 ms a time before, ~20 ms after; docs/scale.md).
gc.freeze()
