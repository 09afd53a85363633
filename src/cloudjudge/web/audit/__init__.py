"""The tamper-evident audit trail (issue 4, "Audit trail").

Every security-relevant event is appended to one hash chain of
:class:`~cloudjudge.web.audit.models.AuditEntry` rows. The rest of the
application writes to it only through :mod:`cloudjudge.web.audit.trail`
(``record``, ``snapshot``, ``changes``); :mod:`cloudjudge.web.audit.chain`
owns hashing, appending, verification and pruning.
"""
