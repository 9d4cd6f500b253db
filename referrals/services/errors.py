"""Domain errors, turned into clear messages at the edge (views, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the desk refused the request; ``str(error)`` is fit to show the user."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    """Field-by-field problems, keyed by the field's path (``children-0-date_of_birth``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
