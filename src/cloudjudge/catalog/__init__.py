"""The criteria catalog: every clause and item of the document, with stable IDs,
and the rules that apply them, as data."""

from cloudjudge.catalog.loader import CatalogError, default_catalog, load_catalog
from cloudjudge.catalog.model import Catalog

__all__ = ["Catalog", "CatalogError", "default_catalog", "load_catalog"]
