"""Sign in, sign out, change password."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from referrals.security.access import public, requires, safe_next
from referrals.security.passwords import PasswordPolicyError
from referrals.security.permissions import Permission
from referrals.services import auth
from referrals.services.errors import DomainError
from referrals.web.forms import error_list

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your e-mail address"), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=256)],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
    )
    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = auth.check_credentials(form.email.data or "", form.password.data or "")
        except auth.SignInRefused as refused:
            g.commit_despite_error = True  # the refused attempt is audited even on a 400
            form.email.errors = [str(refused)]
            return render_template("auth/sign_in.html", form=form, errors=error_list(form)), 400
        session.clear()  # a fresh session at sign-in: nothing carried over from before
        token = auth.start_session(user)
        login_user(auth.load_principal(token))
        return redirect(next_url or url_for("home.index"))
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form, errors=error_list(form)), status


@bp.route("/sign-out", methods=["POST"])
@requires(Permission.SIGNED_IN)
def sign_out() -> Response:
    auth.end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            token = auth.change_password(
                current_user._get_current_object(),
                form.current_password.data or "",
                form.new_password.data or "",
            )
        except PasswordPolicyError as exc:
            form.new_password.errors = [str(exc)]
        except DomainError as exc:
            form.current_password.errors = [str(exc)]
        else:
            session.clear()  # a new session id for this browser too
            login_user(auth.load_principal(token))
            flash("Your password has been changed. Any other signed-in browsers were signed out.")
            return redirect(url_for("home.index"))
    status = 400 if form.errors else 200
    return render_template("auth/change_password.html", form=form, errors=error_list(form)), status
