"""Signing in (password, then a second factor), enrolling and keeping second factors, invitations
and password resets, sign-out and password change.

Between a correct password and a correct second factor the browser holds a partial session: the
guard lets it reach only the views marked :func:`~referrals.security.access.before_factor` here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from referrals.models.user import FactorKind, Stage, TokenPurpose
from referrals.narrowing import given
from referrals.runtime import runtime
from referrals.security.access import before_factor, public, requires, safe_next
from referrals.security.passwords import MAX_LENGTH, PasswordPolicyError
from referrals.security.permissions import Permission
from referrals.services import account_links, auth, factors
from referrals.services.errors import DomainError, InvalidInput
from referrals.web.forms import attach_errors, error_list, printable
from referrals.web.requests import actor

bp = Blueprint("auth", __name__)
AFTER_SIGN_IN = "after_sign_in"
TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


class SignInForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your e-mail address"), Length(max=254), printable],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=MAX_LENGTH)],
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        description="The 6 digits your authenticator app shows now, or one of your recovery codes",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the code from your app"), Length(max=40)],
    )


class AppForm(FlaskForm):
    code = StringField(
        "Code from the app",
        description="After scanning, the app shows 6 digits: enter them",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the 6 digits the app shows"), Length(max=40)],
    )
    label = StringField(
        "Name for this app (optional)",
        description="For example, “Work phone”",
        widget=GovTextInput(),
        validators=[Length(max=60, message="Keep the name to 60 characters or fewer")],
    )


class KeyForm(FlaskForm):
    credential = HiddenField(validators=[Length(max=20_000)])
    label = StringField(
        "Name for this key (optional)",
        description="For example, “Blue key on my keyring”",
        widget=GovTextInput(),
        validators=[Length(max=60, message="Keep the name to 60 characters or fewer")],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password"), Length(max=MAX_LENGTH)],
    )
    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )
    confirm = PasswordField(
        "Type the new password again",
        widget=GovPasswordInput(),
        validators=[InputRequired("Type the new password again")],
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        description="The address your account uses",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your e-mail address"), Length(max=254), printable],
    )


def _address() -> str:
    return request.remote_addr or "unknown"


def _party() -> factors.RelyingParty:
    return factors.RelyingParty.of(runtime().settings.base_url)


def _page(template: str, form: FlaskForm | None = None, **context: object) -> str | tuple[str, int]:
    errors = error_list(form) if form is not None else []
    page = render_template(template, form=form, errors=errors, **context)
    return (page, 400) if errors else page


def _signed_in(token: str) -> None:
    """This browser now holds the session with this token (and nothing from before)."""
    after = session.get(AFTER_SIGN_IN)
    session.clear()
    if after:
        session[AFTER_SIGN_IN] = after
    login_user(given(auth.load_principal(token), "the session just started"))


def _onward() -> Response:
    return redirect(safe_next(session.pop(AFTER_SIGN_IN, None)) or url_for("home.index"))


# --- signing in -------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    settings = runtime().settings
    insecure = settings.is_production and not request.is_secure
    if form.validate_on_submit():
        try:
            user = auth.check_credentials(
                form.email.data or "", form.password.data or "", _address()
            )
        except auth.SignInRefused as refused:
            g.commit_despite_error = True  # the refused attempt is audited and counted
            form.email.errors = [str(refused)]
        else:
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            session[AFTER_SIGN_IN] = safe_next(request.args.get("next"))
            token = auth.start_session(user)
            _signed_in(token)
            return redirect(url_for("auth.factor"))
    return _page("auth/sign_in.html", form, insecure=insecure)


@bp.route("/sign-in/factor", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
@before_factor
def factor() -> str | Response | tuple[str, int]:
    if current_user.complete:
        return redirect(url_for("home.index"))
    if current_user.stage is Stage.ENROL:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            token = auth.second_factor(
                current_user._get_current_object(), form.code.data or "", _address()
            )
        except factors.FactorRefused as refused:
            g.commit_despite_error = True
            form.code.errors = [str(refused)]
        else:
            _signed_in(token)
            return _onward()
    mine = factors.factors_of(current_user.id)
    key_options = None
    if any(f.kind is FactorKind.WEBAUTHN for f in mine):
        key_options = factors.authentication_options(
            current_user.session, current_user.user, _party()
        )
    return _page(
        "auth/factor.html",
        form,
        has_app=any(f.kind is FactorKind.TOTP for f in mine),
        key_options=key_options,
        key_form=KeyForm(formdata=None),
    )


@bp.route("/sign-in/key", methods=["POST"])
@requires(Permission.SIGNED_IN)
@before_factor
def key() -> str | Response | tuple[str, int]:
    if current_user.complete:
        return redirect(url_for("home.index"))
    form = KeyForm()
    if form.validate_on_submit():
        try:
            token = auth.key_factor(
                current_user._get_current_object(), form.credential.data or "", _party(), _address()
            )
        except factors.FactorRefused as refused:
            g.commit_despite_error = True
            flash(str(refused), "refused")
        else:
            _signed_in(token)
            return _onward()
    return redirect(url_for("auth.factor"))


@bp.route("/sign-out", methods=["POST"])
@requires(Permission.SIGNED_IN)
@before_factor
def sign_out() -> Response:
    auth.end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


# --- enrolling a second factor ----------------------------------------------------------------


def _enrolling() -> bool:
    """At sign-in, with no factor yet (the only time a partial session may add one)."""
    return bool(current_user.stage is Stage.ENROL)


def _adding_allowed() -> Response | None:
    """Enrolment is for a partial session at the enrol stage, or a full one adding a method. A
    session still owing its factor is sent to give it: a password alone never adds a factor."""
    if current_user.complete or _enrolling():
        return None
    return redirect(url_for("auth.factor"))


def _enrolled(how: str) -> str | Response:
    """After a factor is added: at sign-in, the recovery codes (shown once) and a full session;
    otherwise back to the security page."""
    if not _enrolling():
        flash("The new sign-in method is ready to use.")
        return redirect(url_for("auth.security"))
    principal = current_user._get_current_object()
    codes = factors.new_recovery_codes(actor(), principal.id)
    _signed_in(auth.complete(principal, how))
    return render_template(
        "auth/recovery_codes.html", codes=codes, onward=safe_next(session.pop(AFTER_SIGN_IN, None))
    )


@bp.route("/sign-in/enrol")
@requires(Permission.SIGNED_IN)
@before_factor
def enrol() -> str | Response:
    if current_user.complete:
        return redirect(url_for("auth.security"))
    if not _enrolling():
        return redirect(url_for("auth.factor"))
    return render_template("auth/enrol.html")


@bp.route("/account/security/app", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
@before_factor
def add_app() -> str | Response | tuple[str, int]:
    refused = _adding_allowed()
    if refused:
        return refused
    principal = current_user._get_current_object()
    form = AppForm()
    if form.validate_on_submit():
        try:
            factors.confirm_totp(
                actor(),
                principal.session,
                principal.user,
                form.code.data or "",
                form.label.data or "",
            )
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        except factors.FactorRefused as refused_offer:
            form.code.errors = [str(refused_offer)]
        else:
            return _enrolled("totp_enrolled")
    offer = factors.current_offer(principal.session, principal.user) or factors.offer_totp(
        principal.session, principal.user
    )
    return _page("auth/add_app.html", form, offer=offer, enrolling=_enrolling())


@bp.route("/account/security/key", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
@before_factor
def add_key() -> str | Response | tuple[str, int]:
    refused = _adding_allowed()
    if refused:
        return refused
    principal = current_user._get_current_object()
    form = KeyForm()
    if form.validate_on_submit():
        if not form.credential.data:
            form.credential.errors = [
                "Your browser sent no key: this step needs JavaScript and a browser that "
                "supports security keys. Use an authenticator app instead."
            ]
        else:
            try:
                factors.finish_registration(
                    actor(),
                    principal.session,
                    principal.user,
                    form.credential.data,
                    _party(),
                    form.label.data or "",
                )
            except factors.FactorRefused as not_registered:
                form.credential.errors = [str(not_registered)]
            else:
                return _enrolled("key_enrolled")
    options = factors.registration_options(principal.session, principal.user, _party())
    return _page("auth/add_key.html", form, options=options, enrolling=_enrolling())


# --- keeping second factors -------------------------------------------------------------------


@bp.route("/account/security")
@requires(Permission.SIGNED_IN)
def security() -> str:
    return render_template(
        "auth/security.html",
        factors=factors.factors_of(current_user.id),
        codes_left=factors.recovery_codes_left(current_user.id),
    )


@bp.route("/account/security/<id:factor_id>/remove", methods=["POST"])
@requires(Permission.SIGNED_IN)
def remove_factor(factor_id: int) -> Response:
    try:
        factors.remove(actor(), current_user.id, factor_id)
    except DomainError as refused:
        flash(str(refused), "refused")
    else:
        flash("That sign-in method has been removed.")
    return redirect(url_for("auth.security"))


@bp.route("/account/security/recovery-codes", methods=["POST"])
@requires(Permission.SIGNED_IN)
def new_recovery_codes() -> str:
    codes = factors.new_recovery_codes(actor(), current_user.id)
    return render_template("auth/recovery_codes.html", codes=codes, onward=url_for("auth.security"))


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
            _signed_in(token)  # a new session id for this browser too
            flash("Your password has been changed. Any other signed-in browsers were signed out.")
            return redirect(url_for("home.index"))
    return _page("auth/change_password.html", form)


# --- invitations and password resets -----------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password() -> str | Response | tuple[str, int]:
    form = ForgotForm()
    if form.validate_on_submit():
        account_links.request_reset(form.email.data or "", _address())
        return render_template("auth/reset_sent.html", email=form.email.data)
    return _page("auth/forgot_password.html", form)


def _link_page(token: str, purpose: TokenPurpose) -> str | Response | tuple[str, int]:
    if len(token) > TOKEN_LENGTH + 10:
        abort(404)
    try:
        account_links.find(token, purpose)
    except account_links.LinkRefused as refused:
        return render_template("auth/link_refused.html", message=str(refused)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            session_token = account_links.redeem(
                token, purpose, form.password.data or "", form.confirm.data or ""
            )
        except InvalidInput as invalid:
            attach_errors(form, invalid.errors)
        except account_links.LinkRefused as refused:
            return render_template("auth/link_refused.html", message=str(refused)), 410
        else:
            logout_user()
            session.clear()
            if session_token:
                _signed_in(session_token)
                flash("Your password is set. Now set up your second way of signing in.")
                return redirect(url_for("auth.factor"))
            flash("Your password has been changed. Sign in with it and your second factor.")
            return redirect(url_for("auth.sign_in"))
    return _page("auth/set_password.html", form, invitation=purpose is TokenPurpose.INVITATION)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def invitation(token: str) -> str | Response | tuple[str, int]:
    return _link_page(token, TokenPurpose.INVITATION)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response | tuple[str, int]:
    return _link_page(token, TokenPurpose.PASSWORD_RESET)
