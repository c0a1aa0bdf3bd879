"""The tenant admin's settings of its own tenant (only its time zone: nothing else of the Tenant row)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from helpdesk.access import CHANGE_TENANT_SETTINGS, role_required
from tenants.forms import TenantTimeZoneForm
from tenants.services import tenant_set_time_zone


@role_required(CHANGE_TENANT_SETTINGS)
def time_zone_settings(request):
    # request.tenant is the host's own tenant: no id comes from the request, so no other tenant can be reached.
    tenant = request.tenant
    form = TenantTimeZoneForm(request.POST or None, initial={"time_zone": tenant.time_zone})
    if request.method == "POST" and form.is_valid():
        old = tenant.time_zone
        tenant_set_time_zone(tenant=tenant, time_zone=form.cleaned_data["time_zone"])
        if tenant.time_zone != old:
            messages.success(
                request,
                f"Time zone set to {tenant.time_zone}. The dashboards keep counting days in {old} until their "
                "rebuild finishes, usually within a minute.",
            )
        return redirect("tenant_time_zone")
    status = 400 if request.method == "POST" else 200
    return render(request, "tenants/time_zone.html", {"form": form, "tenant": tenant}, status=status)
