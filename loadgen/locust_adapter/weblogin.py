"""A password in front of Locust's web UI: ``--web-login`` with loadgen's locustfiles.

Locust's ``--web-login`` (it replaced the basic auth of ``--web-auth user:password``, which
Locust 2.47 refuses) turns its login page on and leaves it to the locustfile to say who may
log in. loadgen does that for every locustfile that calls ``register``: one user,
``LOADGEN_WEB_USER`` (default ``admin``), whose password is read from the environment
variable ``LOADGEN_WEB_PASSWORD`` -- never from the command line, where ``ps`` would show it.
The session cookie is signed with a key made anew at each start; passwords are compared in
constant time. Serve the UI over TLS (``--tls-cert``/``--tls-key``) on an untrusted network.
"""
from __future__ import annotations

import hmac
import os
import secrets
from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_login import UserMixin, login_user

from loadgen.errors import ConfigError

USER_VARIABLE, PASSWORD_VARIABLE = "LOADGEN_WEB_USER", "LOADGEN_WEB_PASSWORD"
SUBMIT_PATH = "/loadgen_login_submit"


class WebUser(UserMixin):
    """The one user of the web UI (flask-login wants an object with an ``id``)."""

    def __init__(self, name: str):
        self.id = name


def install_login(web_ui: Any) -> None:
    """Make ``web_ui`` (Locust's WebUI, started with ``--web-login``) accept exactly one user.

    :raises ConfigError: when ``LOADGEN_WEB_PASSWORD`` is not set (or empty).
    """
    user, password = os.environ.get(USER_VARIABLE) or "admin", os.environ.get(PASSWORD_VARIABLE, "")
    if not password:
        raise ConfigError(f"--web-login: set the environment variable {PASSWORD_VARIABLE} to the web UI's password "
                          f"(user {user!r}; {USER_VARIABLE} changes it)")
    web_ui.app.config["SECRET_KEY"] = secrets.token_hex(32)
    web_ui.login_manager.user_loader(lambda name: WebUser(name) if name == user else None)
    web_ui.auth_args = {"username_password_callback": SUBMIT_PATH}
    web_ui.app.register_blueprint(_blueprint(web_ui, user, password))


def _blueprint(web_ui: Any, user: str, password: str) -> Blueprint:
    login = Blueprint("loadgen_login", __name__)

    @login.route(SUBMIT_PATH, methods=["POST"])
    def submit() -> Any:
        # compare_digest: the time taken does not tell how much of a guess was right; `&`
        # (not `and`) so that both comparisons always run.
        if hmac.compare_digest(request.form.get("username", "").encode(), user.encode()) & hmac.compare_digest(
                request.form.get("password", "").encode(), password.encode()):
            login_user(WebUser(user))
            return redirect(url_for("locust.index"))
        web_ui.auth_args = {**web_ui.auth_args, "error": "Invalid username or password"}
        return redirect(url_for("locust.login"))

    return login
