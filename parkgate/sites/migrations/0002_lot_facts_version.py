"""A per-lot change counter for the site agents' snapshots, kept by database triggers."""

import django.db.models.deletion
from django.db import migrations, models

# Which lots a written row belongs to, as SQL over the row ({row} is NEW or OLD). Every table the
# snapshot (parkgate/sites/snapshot.py) reads; keep the two lists in step.
_GATE_LOT = "SELECT lot_id FROM parking_gate WHERE id = {row}.gate_id"
_POLICY_LOT = "SELECT lot_id FROM parking_accesspolicy WHERE id = {row}.policy_id"
WATCHED = {
    "parking_lot": "SELECT {row}.id",
    "parking_gate": "SELECT {row}.lot_id",
    "access_camera": _GATE_LOT,
    "access_keypad": _GATE_LOT,
    "sites_gateofflinerule": _GATE_LOT,
    "parking_accesspolicy": "SELECT {row}.lot_id",
    "parking_accesspolicy_members": _POLICY_LOT.replace("policy_id", "accesspolicy_id"),
    "parking_timetablewindow": _POLICY_LOT,
    "parking_spotrelease": _POLICY_LOT,
    "access_reservation": "SELECT {row}.lot_id",
    # A plate counts in every lot where its parker is a member or has a reservation.
    "parking_plate": (
        "SELECT p.lot_id FROM parking_accesspolicy_members m"
        " JOIN parking_accesspolicy p ON p.id = m.accesspolicy_id WHERE m.parker_id = {row}.parker_id"
        " UNION SELECT lot_id FROM access_reservation WHERE parker_id = {row}.parker_id"
    ),
}
_BUMP = "UPDATE sites_lotfactsversion SET version = version + 1 WHERE lot_id IN ({lots});"


def _postgresql(table: str, lots: str) -> list[str]:
    old, new = _BUMP.format(lots=lots.format(row="OLD")), _BUMP.format(lots=lots.format(row="NEW"))
    return [
        f"""CREATE OR REPLACE FUNCTION sites_facts_changed_{table}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN {old} END IF;
            IF TG_OP <> 'DELETE' THEN {new} END IF;
            RETURN NULL;
        END $$""",
        # Deferred: the counter is bumped at commit, after every other lock the writer takes.
        f"""CREATE CONSTRAINT TRIGGER sites_facts_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sites_facts_changed_{table}()""",
    ]


def _sqlite(table: str, lots: str) -> list[str]:
    old, new = _BUMP.format(lots=lots.format(row="OLD")), _BUMP.format(lots=lots.format(row="NEW"))
    return [
        f"CREATE TRIGGER sites_facts_changed_{table}_insert AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER sites_facts_changed_{table}_update AFTER UPDATE ON {table} BEGIN {old} {new} END",
        f"CREATE TRIGGER sites_facts_changed_{table}_delete AFTER DELETE ON {table} BEGIN {old} END",
    ]


def create_triggers(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(
            f"site agents' change triggers are written for PostgreSQL and SQLite, not {vendor}"
        )
    build = _postgresql if vendor == "postgresql" else _sqlite
    for table, lots in WATCHED.items():
        for statement in build(table, lots):
            schema_editor.execute(statement)
    # Lots that already have a site agent get their counter.
    LotFactsVersion = apps.get_model("sites", "LotFactsVersion")
    SiteAgent = apps.get_model("sites", "SiteAgent")
    for lot_id in SiteAgent.objects.values_list("lot_id", flat=True).distinct():
        LotFactsVersion.objects.get_or_create(lot_id=lot_id)


def drop_triggers(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for table in WATCHED:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS sites_facts_changed ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS sites_facts_changed_{table}()")
        else:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS sites_facts_changed_{table}_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("parking", "0005_gate_names_per_language"),
        ("sites", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="LotFactsVersion",
            fields=[
                (
                    "lot",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="parking.lot",
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="siteagent",
            name="snapshot_facts_version",
            field=models.BigIntegerField(default=-1),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
