class DomainError(Exception):
    """A rule of the help desk was broken. Views show it as a form error, the API as HTTP 400."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "You are not allowed to do this."):
        super().__init__(message, code="permission_denied")


class StaleComplaint(DomainError):
    """The complaint changed since the caller read it (someone else worked it meanwhile)."""

    status_code = 409

    def __init__(self):
        super().__init__(
            "This complaint was changed by someone else meanwhile. Reload it and try again.", code="conflict"
        )
