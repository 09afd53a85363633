"""Cross-cutting HTTP hardening of the web application (security headers)."""
