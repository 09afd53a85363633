"""The register search through an index on PostgreSQL (issue 14, national scale).

``cj_bigrams(text)``: the text folded as ``cloudjudge.web.search.fold`` folds it
(NFKC, lower case, hiragana as katakana: the expression ``Fold`` writes, with
built-in functions only, so that it holds whatever the ``search_path``), cut in
its two-character pieces between spaces; and a GIN ``pg_trgm``
index over the pieces of the application's number and purpose. The search
(``search.search_words(grams=…)``) asks the index for each piece of a word,
then checks the folded text itself.

PostgreSQL only, and it needs the ``pg_trgm`` extension: ``CREATE EXTENSION``
takes a role allowed to create it in the database (the owner, on PostgreSQL 13
and later, since ``pg_trgm`` is a trusted extension; else a superuser, once:
docs/deploy.md). On SQLite it does nothing: the search scans, which is fine at
a city's size.
"""

from django.db import migrations

from cloudjudge.web.search import HIRAGANA, KATAKANA

#: The folded text, as ``search.Fold`` writes it on PostgreSQL.
FOLDED = f"translate(lower(normalize(coalesce($1, ''), NFKC)), '{HIRAGANA}', '{KATAKANA}')"
#: Its pieces: the pairs from the first character and those from the second,
#: each followed by a space (``会議と`` → `` 会議 と 議と ``; a lone last
#: character is a piece of one). One expression, no FROM and no aggregate, so
#: that PostgreSQL inlines it: the index's recheck evaluates it on every row
#: the index returns.
FUNCTIONS = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION cj_bigrams(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ' ' || regexp_replace({FOLDED}, '(..)', '\\1 ', 'g')
        || ' ' || regexp_replace(substr({FOLDED}, 2), '(..)', '\\1 ', 'g')
$$;
"""
INDEXES = [
    ("app_number_bigrams", "number"),
    ("app_purpose_bigrams", "purpose"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    for name, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON register_application "
            f"USING gin (cj_bigrams({column}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS cj_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("register", "0007_rejudge_runs")]

    operations = [migrations.RunPython(forwards, backwards)]
