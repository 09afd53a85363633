"""``cloudjudge serve``: the WSGI application under gunicorn, started from Python.

Static files are served by WhiteNoise inside the application, so one process
group is all a small installation needs; put a reverse proxy in front for TLS.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, application: Any, options: dict[str, Any]):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than gunicorn 23 are skipped there
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def options(host: str = "127.0.0.1", port: int = 8000) -> dict[str, Any]:
    """gunicorn settings: modest by default (2 workers x 2 threads), tunable
    with ``CLOUDJUDGE_WORKERS`` / ``CLOUDJUDGE_THREADS``."""
    return {
        "bind": _bind(host, port),
        "workers": int(os.environ.get("CLOUDJUDGE_WORKERS", "2")),
        "threads": int(os.environ.get("CLOUDJUDGE_THREADS", "2")),
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        # An idle kept-alive connection waits this long for its next request
        # (gunicorn's default, 2 s, is shorter than a person's pause between
        # two clicks: the browser or the proxy would reconnect each time, and
        # a request sent just as the server closes fails). An idle connection
        # costs a socket in the worker's poller, not a thread.
        "keepalive": int(os.environ.get("CLOUDJUDGE_KEEPALIVE", "75")),
        "preload_app": True,
        # One line per request costs the worker a write under load; the
        # reverse proxy logs requests. CLOUDJUDGE_ACCESS_LOG=1 turns it on.
        "accesslog": "-" if os.environ.get("CLOUDJUDGE_ACCESS_LOG", "") == "1" else None,
        "errorlog": "-",
        "proc_name": "cloudjudge",
        # gunicorn >= 25 opens a control socket at one fixed path per user by
        # default, so two servers on one machine would fight over it.
        "control_socket_disable": True,
    }


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudjudge.web.settings")
    from cloudjudge.web.wsgi import application

    print(f"cloudjudge: http://{_bind(host, port)}/ で待ち受けます（Ctrl+C で停止）", flush=True)
    _Gunicorn(application, options(host, port)).run()
    return 0
