"""Error pages: HTML for people, the API's error shape under /api/."""

from django.http import JsonResponse
from django.views.defaults import page_not_found, server_error


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error("not_found", "Not found.", 404)
    return page_not_found(request, exception)


def server_failure(request):
    if request.path.startswith("/api/"):
        return _api_error("server_error", "Something went wrong on our side.", 500)
    return server_error(request)
