"""Privacy in the back office: retention periods and data-subject requests (find, export, erase)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.core.audit import audit_log
from parkgate.privacy.forms import EraseForm, RetentionForm, SubjectForm
from parkgate.privacy.models import RetentionPolicy, platform_periods
from parkgate.privacy.subjects import (
    SubjectRequestRefused,
    subject_erase,
    subject_erase_everywhere,
    subject_export,
    subject_export_everywhere,
    subject_find,
    subject_find_everywhere,
)

LIST_LIMIT = 50


@require_role(*MANAGER_ROLES)
def privacy_home(request: TenantRequest) -> HttpResponse:
    organisation = request.organisation
    policy = RetentionPolicy.objects.filter(organisation=organisation).first()
    defaults = platform_periods()
    if policy is None:
        policy = RetentionPolicy(
            organisation=organisation,
            visitor_days=defaults.visitor_days,
            access_event_days=defaults.access_event_days,
            email_days=defaults.email_days,
        )
    form = RetentionForm(
        request.POST or None, instance=policy, initial={"privacy_notice_url": organisation.privacy_notice_url}
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            organisation.privacy_notice_url = form.cleaned_data["privacy_notice_url"]
            organisation.save(update_fields=["privacy_notice_url"])
            audit_log(
                action="privacy.retention.changed",
                organisation=organisation,
                actor=request.user,
                data={name: form.cleaned_data[name] for name in [*form.Meta.fields, "privacy_notice_url"]},
            )
        messages.success(request, _("Retention periods saved."))
        return redirect("privacy:home")
    context = {"nav": "privacy", "form": form, "search": SubjectForm(), "defaults": defaults}
    return render(request, "privacy/home.html", context, status=400 if form.errors else 200)


@require_role(*MANAGER_ROLES)
def subject(request: TenantRequest) -> HttpResponse:
    search = SubjectForm(request.GET or None)
    context: dict[str, object] = {"nav": "privacy", "search": search}
    if not search.is_valid():
        return render(request, "privacy/subject.html", context, status=400 if request.GET else 200)
    data = subject_find(
        organisation=request.organisation,
        email=search.cleaned_data["email"],
        plate=search.cleaned_data["plate"],
    )
    context |= {
        "data": data,
        "counts": data.counts(),
        "limit": LIST_LIMIT,
        "subject": search.subject,
        "erase": EraseForm(initial=search.cleaned_data),
    }
    return render(request, "privacy/subject.html", context)


@require_role(*MANAGER_ROLES)
@require_POST
def subject_download(request: TenantRequest) -> HttpResponse:
    search = SubjectForm(request.POST)
    if not search.is_valid():
        return render(request, "privacy/subject.html", {"nav": "privacy", "search": search}, status=400)
    data = subject_find(
        organisation=request.organisation,
        email=search.cleaned_data["email"],
        plate=search.cleaned_data["plate"],
    )
    archive = subject_export(
        organisation=request.organisation, data=data, subject=search.subject, actor=request.user
    )
    response = HttpResponse(archive, content_type="application/zip")
    name = f"parkgate-subject-{timezone.now():%Y%m%d-%H%M}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_role(*MANAGER_ROLES)
@require_POST
def subject_erase_view(request: TenantRequest) -> HttpResponse:
    form = EraseForm(request.POST)
    if not form.is_valid():
        context = {"nav": "privacy", "search": SubjectForm(request.POST), "erase": form}
        return render(request, "privacy/subject.html", context, status=400)
    query = {k: form.cleaned_data[k] for k in ("email", "plate") if form.cleaned_data[k]}
    back = f"{reverse('privacy:subject')}?{urlencode(query)}"
    data = subject_find(organisation=request.organisation, **query)
    try:
        counts = subject_erase(organisation=request.organisation, data=data, actor=request.user)
    except SubjectRequestRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    messages.success(
        request,
        _("Erased: %(count)s records anonymised. The audit log records the erasure without the person.")
        % {"count": sum(counts.values())},
    )
    return redirect(back)


# --- Platform staff: the same requests across every organisation ---------------------------------


def _staff(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
def platform_subject(request: HttpRequest) -> HttpResponse:
    _staff(request)
    search = SubjectForm(request.GET or None)
    context: dict[str, object] = {"nav": "platform_privacy", "search": search}
    if search.is_valid():
        found = subject_find_everywhere(
            email=search.cleaned_data["email"], plate=search.cleaned_data["plate"]
        )
        context |= {
            "found": [(organisation, data.counts()) for organisation, data in found],
            "subject": search.subject,
            "erase": EraseForm(initial=search.cleaned_data),
        }
    status = 400 if request.GET and not search.is_valid() else 200
    return render(request, "privacy/platform_subject.html", context, status=status)


@login_required
@require_POST
def platform_subject_export(request: HttpRequest) -> HttpResponse:
    _staff(request)
    search = SubjectForm(request.POST)
    if not search.is_valid():
        return render(request, "privacy/platform_subject.html", {"search": search}, status=400)
    found = subject_find_everywhere(email=search.cleaned_data["email"], plate=search.cleaned_data["plate"])
    archive = subject_export_everywhere(found=found, subject=search.subject, actor=request.user)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="parkgate-subject-{timezone.now():%Y%m%d-%H%M}.zip"'
    )
    return response


@login_required
@require_POST
def platform_subject_erase(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = EraseForm(request.POST)
    if not form.is_valid():
        context = {"search": SubjectForm(request.POST), "erase": form}
        return render(request, "privacy/platform_subject.html", context, status=400)
    query = {k: form.cleaned_data[k] for k in ("email", "plate") if form.cleaned_data[k]}
    back = f"{reverse('privacy:platform_subject')}?{urlencode(query)}"
    try:
        counts = subject_erase_everywhere(found=subject_find_everywhere(**query), actor=request.user)
    except SubjectRequestRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    messages.success(
        request,
        _("Erased: %(count)s records anonymised. The audit log records the erasure without the person.")
        % {"count": sum(counts.values())},
    )
    return redirect(back)
