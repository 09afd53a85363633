"""The database cache table (settings.CACHES): made by ``migrate``, so that a
new installation, the tests and every server on one database share it."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Idempotent: an existing table (createcachetable run by hand) is kept.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    table = getattr(settings, "CACHE_TABLE", "cloudjudge_cache")
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [("registries", "0003_renewals_statuses_warnings")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
