"""Error pages: HTML for people, the API's error shape under /api/ (whatever the status)."""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.defaults import bad_request as html_bad_request
from django.views.defaults import page_not_found, permission_denied, server_error

TOO_LARGE = "The request body is larger than this server accepts."


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return _api_error("too_large", TOO_LARGE, 413)
        response = html_bad_request(request, exception)
        response.status_code = 413
        return response
    if _is_api(request):
        return _api_error("bad_request", "The request could not be understood.", 400)
    return html_bad_request(request, exception)


def forbidden(request, exception=None):
    if _is_api(request):
        return _api_error("permission_denied", "You do not have permission to perform this action.", 403)
    return permission_denied(request, exception)


def not_found(request, exception=None):
    if _is_api(request):
        return _api_error("not_found", "Not found.", 404)
    return page_not_found(request, exception)


def server_failure(request):
    if _is_api(request):
        return _api_error("server_error", "Something went wrong on our side.", 500)
    return server_error(request)
