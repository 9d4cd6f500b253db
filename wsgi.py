"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

from config import Settings
from referrals import create_app

app = create_app(Settings.from_env())
