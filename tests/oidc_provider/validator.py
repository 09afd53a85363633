"""Claims from ``people.json``, and the two ways of misbehaving the tests ask for."""

from __future__ import annotations

import base64
import json
import time

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


def person(username: str) -> dict:
    people = json.loads(settings.PEOPLE_FILE.read_text(encoding="utf-8"))["people"]
    return people.get(username, {})


class Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
        "department": "profile",
        "amr": "openid",
        "acr": "openid",
    }

    def get_additional_claims(self, request):
        entry = person(request.user.username)
        claims = {
            "preferred_username": entry.get("preferred_username", request.user.username),
            "given_name": entry.get("given_name", ""),
            "family_name": entry.get("family_name", ""),
            "email": entry.get("email", ""),
            "groups": entry.get("groups", []),
            "department": entry.get("department", ""),
            "amr": entry.get("amr", ["pwd"]),
        }
        if entry.get("acr"):
            claims["acr"] = entry["acr"]
        return claims

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        if person(request.user.username).get("expired"):
            claims["exp"] = int(time.time()) - 600
        return claims, expiration

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if not person(request.user.username).get("tamper"):
            return signed
        header, payload, signature = signed.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["groups"] = ["cloudjudge-admins"]
        altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{altered}.{signature}"
