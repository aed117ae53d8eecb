"""Bulk import of parkers: upload, preview with per-row errors, import (all or nothing)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice import parker_import as importer

SESSION_KEY = "parkgate_parker_import"
MAX_BYTES = 2 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or XLSX file"),
        help_text=gettext_lazy(
            "Columns: first_name, last_name, email, plates (separated by commas), policy."
        ),
    )


@require_role(*MANAGER_ROLES)
def parker_import(request: TenantRequest) -> HttpResponse:
    organisation = request.organisation
    if request.method == "POST" and request.POST.get("action") == "import":
        stored = request.session.get(SESSION_KEY)
        if not stored or stored.get("organisation") != organisation.pk:
            messages.error(request, _("Upload the file again."))
            return redirect("backoffice:parker_import")
        try:
            result = importer.parkers_import(
                organisation=organisation, raw=importer.rows_from_json(stored["rows"]), actor=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("backoffice:parker_import")
        del request.session[SESSION_KEY]
        messages.success(
            request,
            _("Import done: %(created)d parkers created, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
        )
        return redirect("backoffice:parker_list")
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"nav": "parkers", "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_BYTES:
                raise importer.ImportFileError(_("The file is larger than 2 MB."))
            raw = importer.read_file(name=upload.name, content=upload.read())
        except importer.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            rows = importer.check(organisation=organisation, raw=raw)
            valid = not any(row.errors for row in rows) and bool(rows)
            if valid:
                request.session[SESSION_KEY] = {
                    "organisation": organisation.pk,
                    "rows": [row.as_json() for row in rows],
                }
            else:
                request.session.pop(SESSION_KEY, None)
            context.update(
                rows=rows,
                valid=valid,
                creates=sum(1 for r in rows if r.existing_id is None),
                updates=sum(1 for r in rows if r.existing_id is not None),
            )
            return render(request, "backoffice/parker_import.html", context, status=200 if valid else 400)
    return render(
        request, "backoffice/parker_import.html", context, status=400 if request.method == "POST" else 200
    )
