from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from complaints.api import CategoryViewSet, ComplaintViewSet
from reporting.api import AgentsReport, CategoriesReport, DailyReport, SummaryReport


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class ObtainToken(ObtainAuthToken):
    """POST username and password, get the API token for `Authorization: Token …`."""

    throttle_classes = [TokenThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # DRF's view pins its own; ours refuse deep nesting

    @extend_schema(responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}))
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


router = DefaultRouter()
router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = [
    path("auth/token/", ObtainToken.as_view(), name="api-token"),
    path("reports/summary/", SummaryReport.as_view(), name="report-summary"),
    path("reports/daily/", DailyReport.as_view(), name="report-daily"),
    path("reports/agents/", AgentsReport.as_view(), name="report-agents"),
    path("reports/categories/", CategoriesReport.as_view(), name="report-categories"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
