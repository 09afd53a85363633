"""Settings for the whole suite."""

from __future__ import annotations

import os
import tempfile

# The catalog cache (catalog/cache.py) of this test run is its own: the suite
# neither reads what other runs left in ~/.cache nor leaves its test catalogs
# there. Set before any test runs, so the CLI's subprocesses inherit it.
os.environ.setdefault("CLOUDJUDGE_CACHE_DIR", tempfile.mkdtemp(prefix="cloudjudge-test-cache-"))
