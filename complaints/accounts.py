"""Staff accounts: what a change of credentials revokes.

A password change or reset, and a deactivation, end every API token and every session of the user: a token
issued under the old password (or before the deactivation) must not outlive it, and re-activating a user must not
bring an old token or session back. It is enforced on the User model's save (complaints.signals), so every road
to a new password — the tenant admin's reset, the user's own change page, `manage.py changepassword`, a shell —
revokes alike.
"""

import unicodedata

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.models import AuthToken

from helpdesk.tenancy import connection

USERNAME_MAX_LENGTH = 150  # django.contrib.auth's User.username


def user_credentials_revoke(*, user) -> tuple[int, int]:
    """Delete the user's API tokens and sessions. Returns (tokens, sessions) deleted."""
    tokens = 0
    if connection.schema_name != "public":  # platform staff have no API tokens (knox lives in tenant schemas)
        tokens, _ = AuthToken.objects.filter(user=user).delete()
    # Sessions are signed blobs keyed by a random id: the user's own are found by decoding the live ones. A rare
    # admin action, over one tenant's sessions.
    mine = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    sessions, _ = Session.objects.filter(session_key__in=mine).delete()
    return tokens, sessions


def credentials_weakened(*, before: tuple[str, bool] | None, user) -> bool:
    """Whether a save of `user` over its stored `before` (password hash, is_active) must revoke its credentials."""
    if before is None:
        return False
    password, active = before
    return password != user.password or (active and not user.is_active)


def username_claim(username: str) -> None:
    """Hold, until the current transaction ends, the right to create `username` (in any case) in this tenant.

    Two admins adding one username at the same moment would both pass the form's check (neither sees the other's
    uncommitted row) and the second would fail on the unique index (a 500), or, differing only in case, both be
    created. With the claim taken before the check, the second waits for the first to commit, then sees its user.
    """
    key = f"{connection.schema_name}:username:{username.upper()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def is_valid_username(username: str) -> bool:
    """What Django's own forms would accept as a username (letters, digits and @ . + - _, at most 150), already in
    the NFKC form Django logs users in with, and without control or format characters (U+202E right-to-left
    override would reverse what dashboards and CSV files show after it)."""
    if not username or len(username) > USERNAME_MAX_LENGTH:
        return False
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in username):
        return False
    if unicodedata.normalize("NFKC", username) != username:
        return False
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return False
    return True
