"""Create the database, the people of ``people.json`` and the client cloudjudge uses."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument("--site", action="append", default=[], help="a client's base URL")

    def handle(self, *args, client_id, client_secret, site, **options):
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        people = json.loads(settings.PEOPLE_FILE.read_text(encoding="utf-8"))["people"]
        for username, entry in people.items():
            User.objects.create_user(username, password=entry["password"])
        Application.objects.create(
            name="cloudjudge",
            client_id=client_id,
            client_secret=client_secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
            redirect_uris=" ".join(f"{s}/accounts/oidc/callback/" for s in site),
            post_logout_redirect_uris=" ".join(f"{s}/accounts/login/" for s in site),
        )
