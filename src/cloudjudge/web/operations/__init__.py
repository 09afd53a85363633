"""Operations: ``backup`` and ``restore`` (the work is in ``cloudjudge.web.operations.backup``)."""
