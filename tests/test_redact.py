"""loadgen.redact: what a URL looks like once its secrets are masked."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.redact import MASK, is_secret_name, redact_argv, redact_url, split_userinfo


@pytest.mark.parametrize("url, shown", [
    ("grpc://ann:s3cret@gw:12345", "grpc://ann:***@gw:12345"),
    ("grpcs://TOKEN123@gw:443", "grpcs://***@gw:443"),  # a lone userinfo is usually a token
    ("ann:s3cret@gw:12345", "ann:***@gw:12345"),  # no scheme: --host's HOST:PORT form
    ("http://ann:p@ss/w?rd#x@gw:80", "http://ann:***@gw:80"),  # unescaped specials in a password
    ("https://gw:443/?token=abc&page=2", "https://gw:443/?token=***&page=2"),
    ("https://gw:443/?API_KEY=abc#frag", "https://gw:443/?API_KEY=***#frag"),
    ("grpc://127.0.0.1:12345", "grpc://127.0.0.1:12345"),
    ("", ""),
    ("not a url at all", "not a url at all"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_split_userinfo_takes_everything_up_to_the_last_at():
    assert split_userinfo("ws://a:b@c@gw:1/") == ("a:b@c", "ws://gw:1/")
    assert split_userinfo("gw:1") == ("", "gw:1")


@pytest.mark.parametrize("name", ["password", "X-Api-Key", "Authorization", "aws_secret_access_key", "TOKEN",
                                  "Cookie", "access-key"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["host", "top_k", "page", "request-size"])
def test_plain_names(name):
    assert not is_secret_name(name)


_SECRET = st.text(st.characters(codec="ascii", exclude_characters="@\x00"), min_size=6, max_size=30)


@given(user=st.from_regex(r"[a-z]{1,8}", fullmatch=True), secret=_SECRET)
def test_a_password_never_survives(user, secret):
    assert redact_url(f"grpc://{user}:{secret}@gw:12345") == f"grpc://{user}:{MASK}@gw:12345"


def test_a_command_line_is_shown_without_header_values_or_passwords():
    argv = ["-f", "x.py", "--host", "grpcs://ann:pw1@gw:443", "--header", "Authorization: Bearer tok",
            "--task-mix", "index:1", "--header", "X-Key:k2", "--validator-kwargs", '{"to": "a@b"}']
    assert redact_argv(argv) == ["-f", "x.py", "--host", "grpcs://ann:***@gw:443", "--header", "Authorization: ***",
                                 "--task-mix", "index:1", "--header", "X-Key: ***", "--validator-kwargs",
                                 '{"to": "a@b"}']
