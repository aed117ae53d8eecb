"""Keypads get an MQTT namespace assigned by Parkgate instead of a topic typed by a tenant."""

import secrets

from django.db import migrations, models

import parkgate.access.models


def assign_namespaces(apps, schema_editor):
    Keypad = apps.get_model("access", "Keypad")
    for keypad in Keypad.objects.filter(mqtt_namespace__isnull=True).only("pk", "mqtt_topic"):
        keypad.mqtt_namespace = f"pg/k{secrets.token_hex(12)}"
        keypad.uses_mqtt = bool(keypad.mqtt_topic)
        keypad.save(update_fields=["mqtt_namespace", "uses_mqtt"])


class Migration(migrations.Migration):
    dependencies = [("access", "0003_camera_keypad"), ("parking", "0002_gate_mqtt_namespace")]

    operations = [
        migrations.AddField(
            model_name="keypad",
            name="uses_mqtt",
            field=models.BooleanField(
                default=False,
                help_text="Parkgate gives the keypad its own MQTT topic and broker account.",
                verbose_name="sends codes over MQTT",
            ),
        ),
        migrations.AddField(
            model_name="keypad",
            name="mqtt_namespace",
            field=models.CharField(editable=False, max_length=40, null=True),
        ),
        migrations.AddField(
            model_name="keypad",
            name="mqtt_password_hash",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="keypad",
            name="mqtt_password_set_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(assign_namespaces, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="keypad",
            name="mqtt_namespace",
            field=models.CharField(
                default=parkgate.access.models.new_keypad_namespace, editable=False, max_length=40, unique=True
            ),
        ),
        migrations.RemoveConstraint(model_name="keypad", name="keypad_unique_mqtt_topic"),
        migrations.RemoveField(model_name="keypad", name="mqtt_topic"),
    ]
