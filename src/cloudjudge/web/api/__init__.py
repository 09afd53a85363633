"""The HTTP API under ``/api/v1/`` (django-ninja): judgements, the register,
checklists and the workflow, for programs, with per-user API tokens."""
