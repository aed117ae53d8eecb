"""The language a site agent speaks at each gate (keypad answers, displays)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sites", "0003_siteagent_events_rejected")]

    operations = [
        migrations.AddField(
            model_name="gateofflinerule",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("fr", "French"), ("nl", "Dutch")],
                default="en",
                max_length=8,
                verbose_name="language of what the gate's keypad and display say",
            ),
        ),
    ]
