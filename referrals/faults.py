"""Fault injection for the scheduler's process tests, and nothing else.

``REFERRALS_FAULT`` names a point at which the process dies at once (exit code 75), as if the
machine had lost power there: the tests prove that the claim's transaction rolls back and the
next sweep takes the step (``sweep.after_claim``), and that an e-mail sent but not marked is
sent again once with the same Message-ID (``relay.after_send``). Unset, it does nothing.
"""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    if os.environ.get("REFERRALS_FAULT") == name:
        os._exit(75)
