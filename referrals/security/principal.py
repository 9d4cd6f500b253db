"""The signed-in user as Flask-Login sees it: a user plus the server-side session behind them."""

from __future__ import annotations

from flask_login import UserMixin

from referrals.models.user import Role, User, UserSession


class Principal(UserMixin):  # type: ignore[misc]  # flask_login ships no type hints
    def __init__(self, user: User, session: UserSession, token: str) -> None:
        self.user = user
        self.session = session
        self._token = token

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the random session token, not the user id.
        return self._token

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def agency_id(self) -> int | None:
        return self.user.agency_id

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def email(self) -> str:
        return self.user.email
