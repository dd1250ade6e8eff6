"""The fake X refuses what X's API description (2.167) refuses, and the bot sends nothing else.

The description is transcribed in :mod:`x_api_spec`; the ``xdk`` package (X's
SDK, generated from the same document) is a second, independent reading of it.
"""

from __future__ import annotations

import inspect
import io
import typing
from pathlib import Path
from typing import Any

import pytest
import requests
import x_api_spec
from fake_x import FakeX
from openapi_schema_validator import OAS30Validator

from soviet_art_bot.log import Logger
from soviet_art_bot.platforms.x import CREDENTIALS, XCredentials, XPlatform
from soviet_art_bot.sample import sample_paintings


@pytest.fixture
def fake_x(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeX(tmp_path / "fake-x") as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
        yield fake


@pytest.fixture
def session(fake_x: FakeX):
    """twython's signing session, as the bot uses it, for hand-made requests."""
    c = fake_x.credentials
    x = XPlatform(XCredentials(*(c[n] for n in CREDENTIALS)), base_url=fake_x.url,
                  logger=Logger(io.StringIO()))  # fmt: skip
    yield x.session
    x.close()


@pytest.fixture
def jpeg() -> bytes:
    ((_, data),) = sample_paintings(1, scale=0.05)
    return data


def assert_invalid_request(answer: requests.Response, parameter: str) -> None:
    """X's 400 answer: an InvalidRequestProblem naming the parameter."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    errors = list(OAS30Validator(x_api_spec.INVALID_REQUEST_PROBLEM).iter_errors(body))
    assert not errors, errors
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    assert body["parameter"] == parameter
    assert parameter in body["errors"][0]["parameters"]


def test_an_undeclared_query_parameter_is_refused(fake_x: FakeX, session) -> None:
    url = f"{fake_x.url}/2/users/{fake_x.user_id}/tweets"
    refused = session.get(url, params={"tweet.fields": "created_at"})
    assert_invalid_request(refused, "tweet.fields")
    assert "post.fields" in refused.json()["errors"][0]["message"]
    assert session.get(url, params={"post.fields": "created_at"}).status_code == 200
    assert_invalid_request(session.get(f"{fake_x.url}/2/users/me", params={"x": "1"}), "x")
    assert_invalid_request(session.post(f"{fake_x.url}/2/tweets?dry_run=1", json={"text": "a"}),
                           "dry_run")  # fmt: skip
    assert fake_x.posts == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"max_results": "4"}, "max_results"),
        ({"max_results": "ten"}, "max_results"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"start_time": "2026-11-26T12:00:00"}, "start_time"),  # RFC 3339 needs a zone
        ({"start_time": "2009-01-01T00:00:00Z"}, "start_time"),  # before 2010-11-06
        ({"exclude": "replies,quotes"}, "exclude"),
        ({"post.fields": "created_at,created_at"}, "post.fields"),  # uniqueItems
        ({"since_id": "12ab"}, "since_id"),
    ],
)
def test_a_declared_query_parameter_out_of_its_schema_is_refused(
    fake_x: FakeX, session, params: dict[str, str], parameter: str
) -> None:
    answer = session.get(f"{fake_x.url}/2/users/{fake_x.user_id}/tweets", params=params)
    assert_invalid_request(answer, parameter)


def test_the_upload_form_has_exactly_the_declared_fields(
    fake_x: FakeX, session, jpeg: bytes
) -> None:
    url = f"{fake_x.url}/2/media/upload"
    media = {"media": ("p.jpg", jpeg, "image/jpeg")}
    extra = session.post(url, files=media, data={"media_category": "tweet_image", "media_type": "image/jpeg"})  # fmt: skip
    assert_invalid_request(extra, "media_type")
    assert_invalid_request(session.post(url, files=media, data={}), "media_category")
    assert_invalid_request(session.post(url, files={"file": ("p.jpg", jpeg, "image/jpeg")},
                                        data={"media_category": "tweet_image"}), "file")  # fmt: skip
    bad_category = session.post(url, files=media, data={"media_category": "image"})
    assert_invalid_request(bad_category, "media_category")
    assert fake_x.media == {}
    ok = session.post(url, files=media, data={"media_category": "tweet_image"})
    assert ok.status_code == 200 and ok.json()["data"]["id"] in fake_x.media


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"text": "a", "possibly_sensitive": True}, "possibly_sensitive"),  # not declared
        ({"text": "a", "media": {"media_ids": ["12a"]}}, "media.media_ids.0"),
        ({"text": "a", "media": {"media_ids": []}}, "media.media_ids"),  # minItems 1
        ({"text": "a", "media": {"media_ids": ["1"] * 5}}, "media.media_ids"),  # maxItems 4
        ({"text": "a", "media": {"media_ids": [1]}}, "media.media_ids.0"),  # ids are strings
        ({"text": "a", "media": {}}, "media.media_ids"),  # required
        ({"text": 7}, "text"),
        ({"text": "a", "reply_settings": "everyone"}, "reply_settings"),
    ],
)
def test_a_post_body_that_breaks_the_schema_is_refused(
    fake_x: FakeX, session, body: dict[str, Any], parameter: str
) -> None:
    assert_invalid_request(session.post(f"{fake_x.url}/2/tweets", json=body), parameter)
    assert fake_x.posts == []


def test_a_metadata_body_that_breaks_the_schema_is_refused(fake_x: FakeX, session) -> None:
    url = f"{fake_x.url}/2/media/metadata"
    too_long = {"id": "1", "metadata": {"alt_text": {"text": "a" * 1001}}}
    assert_invalid_request(session.post(url, json=too_long), "metadata.alt_text.text")
    assert_invalid_request(session.post(url, json={"metadata": {}}), "id")
    no_text = {"id": "1", "metadata": {"alt_text": {}}}
    assert_invalid_request(session.post(url, json=no_text), "metadata.alt_text.text")
    assert_invalid_request(session.post(url, data={"id": "1"}), "body")  # JSON only


def test_a_post_made_by_the_bot_passes_every_check(fake_x: FakeX, session) -> None:
    """The timeline lookup the bot makes after a lost answer asks only for declared fields."""
    answer = session.get(
        f"{fake_x.url}/2/users/{fake_x.user_id}/tweets",
        params={"max_results": 100, "start_time": "2026-11-26T11:55:00Z",
                "exclude": "replies,retweets", "post.fields": "created_at"},
    )  # fmt: skip
    assert answer.status_code == 200 and answer.json() == {"meta": {"result_count": 0}}


# -- a second reading of the description: X's SDK, generated from it ----------------


def _literal_values(annotation: Any) -> set[str]:
    found: set[str] = set()
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found |= set(typing.get_args(arg))
        else:
            found |= _literal_values(arg)
    return found


def test_the_transcription_agrees_with_x_s_sdk() -> None:
    xdk_schemas = pytest.importorskip("xdk.schemas")
    from xdk.users.client import UsersClient

    for ours, model in [
        (x_api_spec.MEDIA_UPLOAD_REQUEST, xdk_schemas.MediaUploadRequest),
        (x_api_spec.CREATE_MEDIA_METADATA_REQUEST, xdk_schemas.CreateMediaMetadataRequest),
        (x_api_spec.CREATE_POSTS_REQUEST, xdk_schemas.CreatePostsRequest),
    ]:
        fields = model.model_fields
        assert set(ours["properties"]) == set(fields), model.__name__
        required = {name for name, f in fields.items() if f.is_required()}
        assert set(ours.get("required", [])) == required, model.__name__
    for ours, method in [
        (x_api_spec.USER_POSTS_QUERY, UsersClient.get_posts),
        (x_api_spec.USERS_ME_QUERY, UsersClient.get_me),
    ]:
        params = inspect.signature(method).parameters
        # the SDK's module uses Literal in its (string) annotations without importing it
        hints = typing.get_type_hints(method, {**method.__globals__, "Literal": typing.Literal})
        names = {n for n in params if n not in ("self", "id")}
        assert {n.replace(".", "_") for n in ours} == names, method.__name__
        for name, schema in ours.items():
            enum = schema.get("items", {}).get("enum")
            if enum:
                assert set(enum) == _literal_values(hints[name.replace(".", "_")])
