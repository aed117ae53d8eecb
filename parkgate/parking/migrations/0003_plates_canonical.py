"""Stored plate keys follow THE plate rule (NFKC, accents folded): ``１ＡＢＣ１２３`` and ``ÄBC-123``
now match camera reads of 1ABC123 and ABC123. Two spellings of one plate of one parker become one."""

from django.db import migrations

from parkgate.parking.plates import plate_display, plate_key


def canonical_plates(apps, schema_editor):
    Plate = apps.get_model("parking", "Plate")
    kept: dict[tuple[int, str], int] = {}
    duplicates: list[int] = []
    changes: list[tuple[int, str, str]] = []
    for pk, parker_id, text, key in Plate.objects.order_by("parker_id", "pk").values_list(
        "pk", "parker_id", "text", "key"
    ):
        new_key = plate_key(text)[:20]
        if (parker_id, new_key) in kept:
            duplicates.append(pk)
            continue
        kept[(parker_id, new_key)] = pk
        new_text = plate_display(text)
        if (new_key, new_text) != (key, text):
            changes.append((pk, new_key, new_text))
    # Duplicates first, then the new keys (the unique (parker, key) constraint holds throughout);
    # a temporary key avoids colliding with a row that changes later in the same pass.
    Plate.objects.filter(pk__in=duplicates).delete()
    for pk, _key, _text in changes:
        Plate.objects.filter(pk=pk).update(key=f"~{pk}")
    for pk, new_key, new_text in changes:
        Plate.objects.filter(pk=pk).update(key=new_key, text=new_text)


class Migration(migrations.Migration):
    dependencies = [("parking", "0002_gate_mqtt_namespace")]

    operations = [migrations.RunPython(canonical_plates, migrations.RunPython.noop)]
