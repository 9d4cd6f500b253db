"""Blueprints: views parse input, call one service, and render or redirect.

URLs follow the person (everything a desk officer uses is under ``/desk``, everything an
administrator uses under ``/admin``); modules follow the work, so one area's URLs are served by
several blueprints, each named for what it does:

- ``/desk``: ``desk`` (the queue, logging an incident, its page), ``dispatch`` (routing and
  sending an incident, a referral's desk page and actions), ``amend`` (corrections and added
  people), ``outcomes`` (what partners decided, per incident), ``needs`` ("Needs the desk"),
  ``search`` (also ``/portal/search``);
- ``/admin``: ``admin`` (users and agencies), ``configuration`` (routing rules, deadlines,
  school calendars), ``api_clients``;
- ``/supervisor``: ``supervisor`` (the board and its actions), ``reports``;
- ``/portal``: ``portal``; ``/audit``: ``audit``; ``/retention``: ``retention``.

A blueprint's templates are in ``templates/<area>/`` by the URL they serve (``desk/``,
``portal/``, ``supervisor/``, ``audit/``, ``retention/``), except ``configuration/`` and
``api_clients/``, whose pages sit under ``/admin`` but are their own blueprints.
"""
