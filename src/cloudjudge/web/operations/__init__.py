"""Operations: ``backup``, ``restore`` (the work is in ``backup.py``) and ``cleanup``
(``cleanup.py``)."""
