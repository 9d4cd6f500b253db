"""The floor's yardstick: the sign-in page as a plain Flask application would serve it.

Plain Flask with the extensions any Flask project with a sign-in form has (Flask-WTF for the
form and its CSRF token, Flask-Login for the anonymous user), the same templates, the same
Design System macros and widgets, the same form class: none of the desk's own request cycle
(no access guard, no security headers, no server-side session, no unit of work). What the desk's
``/sign-in`` costs beyond this page is what its own machinery costs.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from referrals.web.auth import SignInForm

ROOT = Path(__file__).resolve().parents[1]


def plain_app() -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"))
    app.config.update(SECRET_KEY="bench-only-not-a-secret", TESTING=True)  # noqa: S106
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            PrefixLoader({"govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
        ]
    )
    app.jinja_env.undefined = ChainableUndefined
    CSRFProtect(app)
    LoginManager(app).user_loader(lambda _id: None)
    WTFormsHelpers(app)
    app.add_template_global(lambda _permission: False, "can")

    @app.route("/sign-in", endpoint="auth.sign_in")
    def sign_in() -> str:
        assert not current_user.is_authenticated
        return render_template("auth/sign_in.html", form=SignInForm(), errors=[])

    for endpoint in ("auth.forgot_password", "home.index"):
        app.add_url_rule(f"/{endpoint}", endpoint, lambda: "")
    return app
