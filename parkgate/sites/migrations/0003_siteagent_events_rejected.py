"""Events the server rejected, kept at the site: their number, as the agent reports it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sites", "0002_lot_facts_version")]

    operations = [
        migrations.AddField(
            model_name="siteagent",
            name="events_rejected",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
