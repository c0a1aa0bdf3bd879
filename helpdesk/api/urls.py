from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from complaints.api import CategoryViewSet, ComplaintViewSet
from helpdesk.api.auth import ObtainToken, RevokeToken
from reporting.api import (
    AgentsReport,
    ArrivalsReport,
    CategoriesReport,
    ChannelsReport,
    DailyReport,
    OpenByStatusReport,
    SummaryReport,
)

router = DefaultRouter()
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = [
    path("auth/token/", ObtainToken.as_view(), name="api-token"),
    path("auth/token/revoke/", RevokeToken.as_view(), name="api-token-revoke"),
    path("reports/summary/", SummaryReport.as_view(), name="report-summary"),
    path("reports/daily/", DailyReport.as_view(), name="report-daily"),
    path("reports/agents/", AgentsReport.as_view(), name="report-agents"),
    path("reports/categories/", CategoriesReport.as_view(), name="report-categories"),
    path("reports/open-by-status/", OpenByStatusReport.as_view(), name="report-open-by-status"),
    path("reports/channels/", ChannelsReport.as_view(), name="report-channels"),
    path("reports/arrivals/", ArrivalsReport.as_view(), name="report-arrivals"),
    # The API's description is for the tenant's own users: anonymous callers get 401.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[IsAuthenticated]),
        name="api-docs",
    ),
    *router.urls,
]
