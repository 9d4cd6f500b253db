"""The signed-in user as Flask-Login sees it: a user plus the server-side session behind them."""

from __future__ import annotations

from flask_login import UserMixin

from referrals.models.user import Role, Stage, User, UserSession


class Principal(UserMixin):  # type: ignore[misc]  # flask_login ships no type hints
    """Who is asking, as loaded at the start of the request. The plain facts are copied here so
    that reading them after the request's commit (which expires every loaded row) costs no
    query: security headers and templates ask after the commit."""

    def __init__(self, user: User, session: UserSession, token: str) -> None:
        self.user = user
        self.session = session
        self._token = token
        self.id: int = user.id
        self.role: Role = user.role
        self.agency_id: int | None = user.agency_id
        self.display_name: str = user.display_name
        self.email: str = user.email
        self._active: bool = user.active
        self.stage: Stage = session.stage

    @property
    def complete(self) -> bool:
        """Signed in with both factors (until then only the second-factor step is open)."""
        return self.stage is Stage.FULL

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the random session token, not the user id.
        return self._token

    @property
    def is_active(self) -> bool:
        return self._active
