"""Bulk import of parkers from CSV or XLSX (tablib): read, check every row, preview, then import all
rows in one transaction or none. Parkers are matched by e-mail within the organisation, so running
the same file again updates them instead of making duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from parkgate.accounts.models import Organisation
from parkgate.core.audit import audit_log
from parkgate.parking.models import AccessPolicy, Parker, PolicyKind
from parkgate.parking.plates import plate_display, plate_key
from parkgate.parking.services import parker_save, policy_member_add

MAX_ROWS = 2000
MAX_PLATES = 10
COLUMNS = ("first_name", "last_name", "email", "plates", "policy")


@dataclass
class Row:
    number: int  # as in the spreadsheet (header is row 1)
    first_name: str
    last_name: str
    email: str
    plates: list[str] | None  # None: the file has no plates column (plates are kept)
    policy: str
    errors: list[str] = field(default_factory=list)
    existing_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "plates": self.plates,
            "policy": self.policy,
        }


class ImportFileError(Exception):
    pass


def read_file(*, name: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, comma or semicolon) or XLSX file, as dictionaries by column."""
    lower = name.lower()
    try:
        if lower.endswith(".xlsx"):
            data = tablib.Dataset().load(content, format="xlsx")
        elif lower.endswith(".csv"):
            text = content.decode("utf-8-sig")
            first = text.splitlines()[0] if text else ""
            delimiter = ";" if first.count(";") > first.count(",") else ","
            data = tablib.Dataset().load(text, format="csv", delimiter=delimiter)
        else:
            raise ImportFileError(_("Upload a CSV or XLSX file."))
    except ImportFileError:
        raise
    except Exception as error:  # tablib/openpyxl raise many kinds for a damaged file
        raise ImportFileError(_("This file cannot be read as CSV or XLSX.")) from error
    headers = [str(h or "").strip().lower().replace(" ", "_").replace("-", "_") for h in data.headers or []]
    missing = [c for c in ("first_name", "last_name", "email") if c not in headers]
    if missing:
        raise ImportFileError(
            _("Missing columns: %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": ", ".join(COLUMNS)}
        )
    if len(data) > MAX_ROWS:
        raise ImportFileError(_("At most %(count)d rows per file.") % {"count": MAX_ROWS})
    rows = []
    for values in data:
        row = {
            headers[i]: ("" if v is None else str(v)).strip()
            for i, v in enumerate(values)
            if i < len(headers)
        }
        if any(row.values()):
            rows.append(row)
    return rows


def check(*, organisation: Organisation, raw: list[dict[str, str]]) -> list[Row]:
    """Every row with its errors (in the active language) and whether it updates a parker."""
    policies = {
        p.name.casefold(): p
        for p in AccessPolicy.objects.filter(organisation=organisation, kind=PolicyKind.MEMBER)
    }
    existing = {
        p.email.lower(): p.pk
        for p in Parker.objects.filter(managed_by=organisation, organisation=organisation).exclude(email="")
    }
    seen: dict[str, int] = {}
    rows = []
    for index, values in enumerate(raw, start=2):
        plates = (
            [plate_display(p) for p in values["plates"].replace(";", ",").split(",") if p.strip()]
            if "plates" in values
            else None
        )
        row = Row(
            number=index,
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            email=values.get("email", "").lower(),
            plates=plates,
            policy=values.get("policy", ""),
        )
        if not row.first_name or not row.last_name:
            row.errors.append(_("First and last name are required."))
        if len(row.first_name) > 100 or len(row.last_name) > 100:
            row.errors.append(_("A name is longer than 100 characters."))
        try:
            validate_email(row.email)
        except ValidationError:
            row.errors.append(_("“%(email)s” is not a valid e-mail address.") % {"email": row.email})
        else:
            if row.email in seen:
                row.errors.append(_("Same e-mail as row %(row)d.") % {"row": seen[row.email]})
            seen[row.email] = index
        for plate in plates or []:
            if not plate_key(plate):
                row.errors.append(_("“%(plate)s” has no letter or digit.") % {"plate": plate})
            elif len(plate) > 20:
                row.errors.append(_("“%(plate)s” is longer than 20 characters.") % {"plate": plate})
        if len({plate_key(p) for p in plates or []}) > MAX_PLATES:
            row.errors.append(_("At most %(count)d plates per parker.") % {"count": MAX_PLATES})
        if row.policy and row.policy.casefold() not in policies:
            row.errors.append(_("No member policy named “%(policy)s”.") % {"policy": row.policy})
        row.existing_id = existing.get(row.email)
        rows.append(row)
    return rows


def rows_from_json(data: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "first_name": d["first_name"],
            "last_name": d["last_name"],
            "email": d["email"],
            **({"plates": ", ".join(d["plates"])} if d["plates"] is not None else {}),
            "policy": d["policy"],
        }
        for d in data
    ]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def parkers_import(*, organisation: Organisation, raw: list[dict[str, str]], actor: Any) -> ImportResult:
    """Import every row, or nothing when a row has an error (checked again, in the transaction)."""
    with transaction.atomic():
        rows = check(organisation=organisation, raw=raw)
        bad = [row for row in rows if row.errors]
        if bad:
            raise ValidationError(
                _("Row %(row)d: %(error)s") % {"row": bad[0].number, "error": " ".join(bad[0].errors)}
            )
        policies = {
            p.name.casefold(): p
            for p in AccessPolicy.objects.filter(organisation=organisation, kind=PolicyKind.MEMBER)
        }
        created = updated = 0
        for row in rows:
            parker = Parker.objects.filter(
                managed_by=organisation, organisation=organisation, email__iexact=row.email
            ).first()
            if parker is None:
                parker = Parker(managed_by=organisation, organisation=organisation, email=row.email)
                created += 1
            else:
                updated += 1
            parker.first_name, parker.last_name = row.first_name, row.last_name
            parker_save(parker=parker, plates=row.plates, actor=actor, actor_label="import")
            if row.policy:
                policy = policies[row.policy.casefold()]
                if not policy.members.filter(pk=parker.pk).exists():
                    policy_member_add(policy=policy, parker=parker, actor=actor)
        audit_log(
            action="parking.parkers.imported",
            organisation=organisation,
            actor=actor,
            data={"created": created, "updated": updated},
        )
    return ImportResult(created=created, updated=updated)
