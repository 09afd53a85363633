"""WSGI entry point: ``cloudjudge.web.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudjudge.web.settings")

application = get_wsgi_application()
