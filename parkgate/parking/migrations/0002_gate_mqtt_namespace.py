"""Give every gate its own MQTT namespace, and drop the topic settings tenants used to type.

The relay of a Shelly gate must be reconfigured with the new prefix and its own broker account
(the gate's device page says what to set); a generic MQTT gate's topics become relative to the
gate's namespace.
"""

import secrets

from django.db import migrations, models

import parkgate.parking.models


def assign_namespaces(apps, schema_editor):
    Gate = apps.get_model("parking", "Gate")
    for gate in Gate.objects.filter(mqtt_namespace__isnull=True).only("pk", "driver_kind", "driver_settings"):
        gate.mqtt_namespace = f"pg/g{secrets.token_hex(12)}"
        settings = dict(gate.driver_settings or {})
        if gate.driver_kind == "shelly-gen2-mqtt":
            settings.pop("topic_prefix", None)
        elif gate.driver_kind == "mqtt-generic":
            for name in ("command_topic", "ack_topic"):
                if settings.get(name):
                    settings[name] = str(settings[name]).strip("/")
        gate.driver_settings = settings
        gate.save(update_fields=["mqtt_namespace", "driver_settings"])


class Migration(migrations.Migration):
    dependencies = [("parking", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="gate",
            name="mqtt_namespace",
            field=models.CharField(editable=False, max_length=40, null=True),
        ),
        migrations.AddField(
            model_name="gate",
            name="mqtt_password_hash",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="gate",
            name="mqtt_password_set_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(assign_namespaces, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="gate",
            name="mqtt_namespace",
            field=models.CharField(
                default=parkgate.parking.models.new_gate_namespace, editable=False, max_length=40, unique=True
            ),
        ),
    ]
