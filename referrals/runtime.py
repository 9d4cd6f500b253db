"""What the services need from configuration, bound to the app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from config import Settings
from referrals.security.crypto import Keyring

EXTENSION_KEY = "referrals"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    keyring: Keyring

    @property
    def audit_key(self) -> bytes:
        return self.settings.audit_key

    @property
    def linkage_key(self) -> bytes:
        return self.settings.linkage_key


def runtime() -> Runtime:
    found: Runtime = current_app.extensions[EXTENSION_KEY]
    return found
