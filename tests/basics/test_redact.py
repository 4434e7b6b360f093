"""errors.redact: the one redaction of gitopslab (logs, errors, the support bundle). Each shape below
leaked before issue 23.12 (AWS keys, api_key, cookies, JSON passwords, socks5 and scheme-less proxies,
a password holding "@"); the last test keeps what is not a secret readable."""

from __future__ import annotations

import pytest

from gitopslab.errors import redact

SHAPES = [
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG other", "AWS_SECRET_ACCESS_KEY=*** other", "wJalrXUtnFEMI"),
    ("export AWS_SECRET_ACCESS_KEY='wJalr XUtn'", "export AWS_SECRET_ACCESS_KEY='***'", "wJalr"),
    ("GET /v1?api_key=k-1234567&page=2", "GET /v1?api_key=***&page=2", "k-1234567"),
    ("X-Api-Key: k-7654321", "X-Api-Key: ***", "k-7654321"),
    ("Cookie: i_like_gitea=ab12cd34; _csrf=zz99", "Cookie: ***", "ab12cd34"),
    ("Set-Cookie: session=ab12cd34; Path=/", "Set-Cookie: ***", "ab12cd34"),
    ('{"username": "ada", "password": "pw hunter2", "n": 1}', '{"username": "ada", "password": "***", "n": 1}',
     "hunter2"),
    ('{"client_secret":"cs-998877"}', '{"client_secret":"***"}', "cs-998877"),
    ("password=hunter2", "password=***", "hunter2"),
    ("Authorization: Bearer eyJabc.def", "Authorization: Bearer ***", "eyJabc"),
    ("proxy http://ada:p@ss/w0rd@proxy.corp:3128 used", "proxy http://ada:***@proxy.corp:3128 used", "p@ss"),
    ("socks5h://ada:s0cks-pw@proxy.corp:1080", "socks5h://ada:***@proxy.corp:1080", "s0cks-pw"),
    ("HTTPS_PROXY=ada:p@ss-w0rd@proxy.corp:3128", "HTTPS_PROXY=ada:***@proxy.corp:3128", "ss-w0rd"),
    ('"http_proxy": "ada:pl41n@10.0.0.1:8080"', '"http_proxy": "ada:***@10.0.0.1:8080"', "pl41n"),
]


@pytest.mark.parametrize(("text", "shown", "secret"), SHAPES, ids=[s[0][:24] for s in SHAPES])
def test_every_credential_shape_is_cut_and_its_name_kept(text: str, shown: str, secret: str) -> None:
    assert redact(text) == shown
    assert secret not in redact(text)


def test_known_values_are_cut_longest_first() -> None:
    assert redact("a abcdef-long b abcd", ["abcd", "abcdef-long"]) == "a *** b ***"
    assert redact("pin abc stays", ["abc"]) == "pin abc stays"  # under 4 characters: too likely to be prose


def test_what_is_not_a_credential_stays_readable() -> None:
    for text in ["registry.localhost:5002/hello-api:v1@sha256:0123abcd", "git@github.com:org/repo.git",
                 "http://gitea.localhost:3000/api/v1/repos", "secrets.json: mode 0600", "echo $TOKEN"]:
        assert redact(text) == text
