"""hypothesis-jsonschema 0.23.1 (under schemathesis 3.39) with the pinned
hypothesis 6.170: hypothesis changed its private ``many`` helper into a context
manager that is iterated, and hypothesis-jsonschema still calls the old
``elements.more()``, so every object schema (a JSON body, a query) fails with
``AttributeError: 'many' object has no attribute 'more'``.

:func:`install` gives hypothesis-jsonschema a ``many`` with the old interface,
built on the new one (entered at once, stepped by ``more()``, exited when it
says no more). Remove it once hypothesis-jsonschema follows hypothesis.
"""

from __future__ import annotations

import types
from typing import Any

from hypothesis.internal.conjecture import utils as conjecture_utils


class _Many:
    def __init__(self, data: Any, **kwargs: Any) -> None:
        self._many = conjecture_utils.many(data, **kwargs)
        self._many.__enter__()
        self._steps = iter(self._many)

    def more(self) -> bool:
        try:
            next(self._steps)
        except StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


def install() -> None:
    from hypothesis_jsonschema import _from_schema

    if hasattr(conjecture_utils.many, "more") or isinstance(_from_schema.cu, types.SimpleNamespace):
        return
    shim = types.SimpleNamespace(**vars(conjecture_utils))
    shim.many = _Many
    _from_schema.cu = shim
