"""Security headers Django 5.2 does not set itself.

Django's ``SecurityMiddleware`` sets ``X-Content-Type-Options``,
``Referrer-Policy``, ``Cross-Origin-Opener-Policy`` (and HSTS in production),
``XFrameOptionsMiddleware`` sets ``X-Frame-Options: DENY``. This middleware
adds:

* ``Content-Security-Policy`` (``CLOUDJUDGE_CONTENT_SECURITY_POLICY``): only
  this site's own scripts, styles, images, fonts and form targets; no inline
  script or style, no ``eval``, no plug-ins, no framing. The pages keep to it:
  every script and style sheet is a static file, the QR code is inline SVG
  without a ``style`` attribute.
* ``Permissions-Policy`` (``CLOUDJUDGE_PERMISSIONS_POLICY``): no camera,
  microphone, location, payment, USB and the like.
* ``Cross-Origin-Resource-Policy: same-origin``.

A view that needs another policy sets the header itself; it is not replaced.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

DEFAULT_PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}


def csp_header(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


def permissions_header(policy: dict[str, list[str]]) -> str:
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions = permissions_header(
            getattr(settings, "CLOUDJUDGE_PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)
        )

    def __call__(self, request):
        response = self.get_response(request)
        # Read at each request: the directory settings add their provider to form-action.
        policy = getattr(settings, "CLOUDJUDGE_CONTENT_SECURITY_POLICY", DEFAULT_CSP)
        response.headers.setdefault("Content-Security-Policy", csp_header(policy))
        response.headers.setdefault("Permissions-Policy", self.permissions)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
