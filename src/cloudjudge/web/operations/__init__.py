"""Operations: ``backup``, ``restore`` (the work is in ``cloudjudge.web.backup``) and
``cleanup`` (``cleanup.py``)."""
