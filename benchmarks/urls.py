"""The tenant URLs plus the single-database summary the benchmark compares with: ROOT_URLCONF of
helpdesk.settings.bench only, so no other settings ever route it."""

from django.urls import path

from benchmarks.views import OnTheFlySummary
from helpdesk import urls as tenant_urls

urlpatterns = [*tenant_urls.urlpatterns, path("bench/onthefly/summary/", OnTheFlySummary.as_view())]

handler400 = tenant_urls.handler400
handler403 = tenant_urls.handler403
handler404 = tenant_urls.handler404
handler500 = tenant_urls.handler500
