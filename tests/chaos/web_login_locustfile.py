"""A locustfile whose web UI asks for a password: the pattern of docs/usage.md ("Protecting
the web UI"), run by tests/chaos/test_web_login.py.

Locust's ``--web-login`` (it replaced the basic auth of ``--web-auth user:password`` in early
2024) turns the login page on and leaves it to the locustfile to say who may log in. Here that is one user,
``LOADGEN_WEB_USER`` (default ``admin``), whose password comes from the environment variable
``LOADGEN_WEB_PASSWORD``, never from the command line, where ``ps`` would show it.
"""
import hmac
import os
import secrets

from locust import events

from flask import Blueprint, redirect, request, url_for
from flask_login import UserMixin, login_user
from loadgen.locust_adapter import JinaUser, register

register(events, kind="text")


class TextUser(JinaUser):
    pass


class WebUser(UserMixin):
    def __init__(self, name: str):
        self.id = name


@events.init.add_listener
def protect_the_web_ui(environment, web_ui=None, **_):
    if web_ui is None or not web_ui.web_login:
        return
    user, password = os.environ.get("LOADGEN_WEB_USER", "admin"), os.environ["LOADGEN_WEB_PASSWORD"]
    web_ui.app.config["SECRET_KEY"] = secrets.token_hex(32)  # signs the session cookie; new at each start
    web_ui.login_manager.user_loader(lambda name: WebUser(name) if name == user else None)
    web_ui.auth_args = {"username_password_callback": "/login_submit"}
    login = Blueprint("loadgen_login", __name__)

    @login.route("/login_submit", methods=["POST"])
    def login_submit():
        given_user, given_password = request.form.get("username", ""), request.form.get("password", "")
        # compare_digest: the time taken does not tell how much of a guess was right
        if hmac.compare_digest(given_user.encode(), user.encode()) & hmac.compare_digest(
                given_password.encode(), password.encode()):
            login_user(WebUser(user))
            return redirect(url_for("locust.index"))
        web_ui.auth_args = {**web_ui.auth_args, "error": "Invalid username or password"}
        return redirect(url_for("locust.login"))

    web_ui.app.register_blueprint(login)
