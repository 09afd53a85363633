"""A real OpenID Connect provider for the tests: django-oauth-toolkit's, in a
small Django project of its own, served by gunicorn on a loopback port as a
separate process (``support.oidc_provider`` starts and stops it).

Its people and their claims are in ``people.json`` in the provider's folder,
read at every request, so a test changes someone's groups by rewriting it.
Two flags there make the provider misbehave on purpose: ``expired`` issues
ID tokens that expired already, ``tamper`` alters the ID token's claims after
signing it.
"""
