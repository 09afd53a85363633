"""Catalog versions installed side by side, and the one in force on a day.

Every ``*.yaml`` catalog file in the package folder is an installed version,
and so is every one in the folders named by ``$CLOUDJUDGE_CATALOG_DIRS``
(separated by ``os.pathsep``): a city installs a revision by dropping its file
there, without replacing the version its judgements were made with. A version
is named by its label, ``id@version`` (``sakai-cloud-usage-criteria@1.0``),
which is what every judgement records as its ``criteria_version``.

The version in force on a day is the one of the bundled catalog's ``id`` with
the latest ``effective`` date on or before that day (a version without one is
in force from the start); a pin (``CLOUDJUDGE_CATALOG_VERSION`` in the web
settings, a label or a bare version) overrides the dates.
"""

from __future__ import annotations

import datetime
import os
from functools import cache
from pathlib import Path

from cloudjudge.catalog.loader import (
    CATALOG_DIR,
    DEFAULT_CATALOG,
    CatalogError,
    default_catalog,
    load_catalog,
)
from cloudjudge.catalog.model import Catalog


def catalog_dirs() -> tuple[Path, ...]:
    """The package folder, then the folders of ``$CLOUDJUDGE_CATALOG_DIRS``."""
    extra = os.environ.get("CLOUDJUDGE_CATALOG_DIRS", "")
    return (CATALOG_DIR, *(Path(p) for p in extra.split(os.pathsep) if p.strip()))


@cache
def _installed(dirs: tuple[Path, ...]) -> tuple[Catalog, ...]:
    found: dict[str, Catalog] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            # the bundled file is the one object every default judgement uses
            catalog = default_catalog() if path == DEFAULT_CATALOG else load_catalog(path)
            if catalog.label in found:
                raise CatalogError(f"{path}: 版 {catalog.label} は既にインストールされています")
            found[catalog.label] = catalog
    return tuple(sorted(found.values(), key=_order))


def _order(catalog: Catalog) -> tuple[str, datetime.date, str]:
    return (catalog.id, catalog.effective or datetime.date.min, catalog.version)


def installed_catalogs() -> tuple[Catalog, ...]:
    """Every installed version, oldest first (by catalog ID, effective date, version)."""
    return _installed(catalog_dirs())


def find_catalog(name: str) -> Catalog:
    """An installed version by label (``id@version``) or bare version (``1.0``)."""
    versions = installed_catalogs()
    for catalog in versions:
        if name in (catalog.label, catalog.version):
            return catalog
    known = "、".join(c.label for c in versions)
    raise CatalogError(
        f"判断基準の版 {name} はインストールされていません（インストール済み: {known}）"
    )


def catalog_for(name: str) -> Catalog:
    """A catalog by installed label or version, else a catalog file's path."""
    path = Path(name)
    if name.endswith((".yaml", ".yml")) or path.is_file():
        return load_catalog(path)
    return find_catalog(name)


def active_catalog(pinned: str = "", today: datetime.date | None = None) -> Catalog:
    """The version in force ``today`` (or the ``pinned`` one)."""
    if pinned:
        return find_catalog(pinned)
    today = today or datetime.date.today()
    base = default_catalog()
    in_force = [
        c
        for c in installed_catalogs()
        if c.id == base.id and (c.effective is None or c.effective <= today)
    ]
    return in_force[-1] if in_force else base


def newer_versions(catalog: Catalog) -> tuple[Catalog, ...]:
    """The installed versions of the same catalog that come after ``catalog``."""
    versions = [c for c in installed_catalogs() if c.id == catalog.id]
    later = False
    out = []
    for candidate in versions:
        if later:
            out.append(candidate)
        later = later or candidate.label == catalog.label
    return tuple(out)
