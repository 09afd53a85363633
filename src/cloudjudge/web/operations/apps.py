from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Management commands for operators; no models."""

    name = "cloudjudge.web.operations"
    label = "operations"
    verbose_name = "運用（バックアップ・復元）"
