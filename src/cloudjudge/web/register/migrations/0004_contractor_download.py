# The fact of ruling 3 (別紙1① No.11 なお書): a contractor downloads the data.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0003_checklist_overdue_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="download_by_contractor",
            field=models.BooleanField(
                default=False,
                help_text="Only with downloads to internet terminals (Annex 1 ① No.11, the なお書).",
                verbose_name="a designated manager or contractor downloads the data",
            ),
        ),
    ]
