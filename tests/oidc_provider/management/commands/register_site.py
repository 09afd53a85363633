"""Let cloudjudge at another base URL (the browser tests' live server) use the client."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("site")

    def handle(self, *args, site, **options):
        client = Application.objects.get(name="cloudjudge")
        client.redirect_uris += f" {site}/accounts/oidc/callback/"
        client.post_logout_redirect_uris += f" {site}/accounts/login/"
        client.save()
