"""Fault tests: the real server (``cloudjudge serve``) on a PostgreSQL cluster
of their own, killed with SIGKILL, the database stopped under it.

They need no Django test database: everything goes through the CLI, HTTP
and SQL, as in production. One cluster serves the module's tests; each test
gets a fresh database copied from a template prepared once (migrated, the
demo data loaded, its evidence files in a media folder copied alongside)."""

from __future__ import annotations

import itertools
import shutil

import pytest

from support.site import Cluster, Server, Site, pg_bin

TEMPLATE = "cj_faults_template"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def cluster():
    binaries = pg_bin()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries are not installed (scripts/test-deps)")
    cluster = Cluster(binaries)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def template(cluster, tmp_path_factory) -> Site:
    """The demo installation, made once: migrated, demo data, evidence files."""
    folder = tmp_path_factory.mktemp("template")
    cluster.create_database(TEMPLATE)
    site = Site(folder, cluster.url(TEMPLATE))
    site.ok("manage", "migrate", "-v0")
    site.ok("manage", "load_demo")
    return site


@pytest.fixture
def site(cluster, template, tmp_path) -> Site:
    """A fresh copy of the demo installation for one test."""
    name = f"cj_fault_{next(_names)}"
    cluster.create_database(name, template=TEMPLATE)
    folder = tmp_path / "site"
    folder.mkdir()
    if template.media.exists():
        shutil.copytree(template.media, folder / "media")
    yield Site(folder, cluster.url(name))
    cluster.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def server(site, tmp_path):
    """``cloudjudge serve`` on the test's database (killed or stopped at the end)."""
    running = Server(site, tmp_path / "server.log")
    yield running.start()
    running.stop()
