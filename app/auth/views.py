"""Sign-in, sign-out, password change and the language switcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.auth.forms import ChangePasswordForm, LanguageForm, LoginForm
from app.core.clock import now_utc
from app.core.security import public
from app.core.transactions import commit_or_explain
from app.extensions import limiter


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("main.home")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    """Sign in; every failure gets the same message (no username enumeration)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        # a refusal is kept: the failed attempt counts towards the lock-out
        user = commit_or_explain(lambda: _authenticate(form), keep_refused=True)
        if not user:
            return render_template("auth/login.html", form=form), 200
        language = session.get("lang")
        session.clear()
        if language:
            session["lang"] = language
        login_user(user)
        session["signed_in_at"] = session["seen_at"] = now_utc().timestamp()
        if user.must_change_password:
            flash(_("Please choose a new password before you continue."), "warning")
            return redirect(url_for("auth.change_password"))
        return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


def _authenticate(form: LoginForm):
    user = services.authenticate(form.username.data, form.password.data)
    services.rehash_if_needed(user, form.password.data)
    return user


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST with CSRF, so no link can sign anyone out)."""
    commit_or_explain(lambda: services.sign_out(current_user))
    logout_user()
    session.pop("seen_at", None)
    session.pop("signed_in_at", None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; required at first sign-in and after a reset."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not commit_or_explain(  # a refusal keeps the audit row of the failed attempt
                lambda: services.change_own_password(current_user, form.current_password.data,
                                                     form.new_password.data),
                form=form, field="new_password", keep_refused=True):
            return render_template("auth/change_password.html", form=form)
        login_user(current_user._get_current_object())  # token rotated: renew this session
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    """Switch the interface language; for a signed-in user it becomes their preference."""
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in current_app.config["LANGUAGES"]:
        session["lang"] = form.language.data
        if current_user.is_authenticated:
            commit_or_explain(lambda: services.set_preferred_language(current_user,
                                                                      form.language.data))
    return redirect(safe_next(form.next.data))
