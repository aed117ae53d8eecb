"""Reservations' stored plate keys follow THE plate rule (NFKC, accents folded)."""

from django.db import migrations

from parkgate.parking.plates import plate_display, plate_key


def canonical_plates(apps, schema_editor):
    Reservation = apps.get_model("access", "Reservation")
    for reservation in Reservation.objects.exclude(plate_text="").only("pk", "plate_text", "plate_key").iterator():
        key = plate_key(reservation.plate_text)[:20]
        text = plate_display(reservation.plate_text)
        if (key, text) != (reservation.plate_key, reservation.plate_text):
            Reservation.objects.filter(pk=reservation.pk).update(plate_key=key, plate_text=text)


class Migration(migrations.Migration):
    dependencies = [("access", "0005_keypad_guess"), ("parking", "0003_plates_canonical")]

    operations = [migrations.RunPython(canonical_plates, migrations.RunPython.noop)]
