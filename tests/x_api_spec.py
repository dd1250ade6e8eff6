"""X's API description, the parts the bot uses, as the fake X enforces it.

Transcribed from X's production OpenAPI document, **X API v2 version 2.167**
(``specs/openapi.json`` in X's official SDK repository ``xdevplatform/xdk``,
from which the ``xdk`` package on PyPI, 0.10.6, is generated). Descriptions
are left out; every name, type, pattern, bound, enum, ``required`` and
``additionalProperties`` is X's. For each endpoint the bot calls:

================================  ==============================================
``POST /2/media/upload``          body ``MediaUploadRequest`` (multipart or JSON):
                                  ``media`` and ``media_category`` required,
                                  ``additional_owners`` optional, nothing else
                                  (``additionalProperties: false``); no query
``POST /2/media/metadata``        JSON ``CreateMediaMetadataRequest``: ``id``
                                  required, ``metadata`` optional; no query
``POST /2/tweets``                JSON ``CreatePostsRequest`` (all optional,
                                  ``additionalProperties: false``); no query
``GET /2/users/me``               query ``user.fields``, ``expansions``,
                                  ``post.fields``, all optional
``GET /2/users/{id}/tweets``      query ``max_results`` (5-100),
                                  ``pagination_token``, ``start_time``,
                                  ``end_time``, ``since_id``, ``until_id``,
                                  ``exclude``, ``post.fields``, ``expansions``,
                                  ``user.fields``, ``media.fields``,
                                  ``poll.fields``, ``place.fields``, all optional
================================  ==============================================

Query arrays are ``style: form, explode: false``: one comma-separated value.
A request that breaks the description is answered as X answers an invalid
request: 400 with an ``InvalidRequestProblem`` body (``type``
``https://api.x.com/2/problems/invalid-request``, ``title``, ``detail``,
``parameter``, ``value``, ``status``), plus the ``errors`` list X's answers
carry; see :func:`check_request`.

Worth knowing, from the same document: ``tweet.fields`` is not declared on
``GET /2/users/{id}/tweets`` (it is ``post.fields``), and ``media_type`` is not
a field of the upload. ``CreatePostsRequest`` has no field that marks a post
as sensitive; ``CreateMediaMetadataMetadata`` declares
``sensitive_media_warning`` as an object with no properties given.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from openapi_schema_validator import OAS30Validator

VERSION = "2.167"
SOURCE = "specs/openapi.json in xdevplatform/xdk"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"

# -- request bodies: components/schemas ------------------------------------------------

MEDIA_UPLOAD_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["media", "media_category"],
    "properties": {
        "additional_owners": {"type": "string"},
        "media": {
            "anyOf": [{"type": "string", "format": "binary"}, {"type": "string", "format": "byte"}]
        },
        "media_category": {
            "type": "string",
            "enum": [
                "tweet_image",
                "tweet_video",
                "tweet_gif",
                "dm_image",
                "dm_video",
                "dm_gif",
                "subtitles",
            ],
        },
    },
    "additionalProperties": False,
}  # components/schemas/MediaUploadRequest
CREATE_MEDIA_METADATA_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
        "metadata": {
            "type": "object",
            "properties": {
                "allow_download_status": {
                    "type": "object",
                    "properties": {"allow_download": {"type": "boolean"}},
                },
                "alt_text": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "maxLength": 1000}},
                },
                "audience_policy": {"type": "object"},
                "content_expiration": {
                    "type": "object",
                    "required": ["timestamp_sec"],
                    "properties": {"timestamp_sec": {"type": "number"}},
                },
                "domain_restrictions": {
                    "type": "object",
                    "required": ["whitelist"],
                    "properties": {"whitelist": {"type": "array", "items": {"type": "string"}}},
                },
                "found_media_origin": {
                    "type": "object",
                    "required": ["provider", "id"],
                    "properties": {"id": {"type": "string"}, "provider": {"type": "string"}},
                },
                "geo_restrictions": {"type": "object"},
                "management_info": {
                    "type": "object",
                    "required": ["managed"],
                    "properties": {"managed": {"type": "boolean"}},
                },
                "preview_image": {
                    "type": "object",
                    "required": ["media_key"],
                    "properties": {"media_key": {"type": "object"}},
                },
                "sensitive_media_warning": {"type": "object"},
                "shared_info": {
                    "type": "object",
                    "required": ["shared"],
                    "properties": {"shared": {"type": "boolean"}},
                },
                "sticker_info": {
                    "type": "object",
                    "required": ["stickers"],
                    "properties": {
                        "stickers": {"type": "array", "items": {"type": "object", "properties": {}}}
                    },
                },
                "upload_source": {
                    "type": "object",
                    "required": ["upload_source"],
                    "properties": {"upload_source": {"type": "string"}},
                },
            },
        },
    },
}  # components/schemas/CreateMediaMetadataRequest
CREATE_POSTS_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "card_uri": {"type": "string"},
        "community_id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
        "direct_message_deep_link": {"type": "string"},
        "edit_options": {
            "type": "object",
            "required": ["previous_post_id"],
            "properties": {"previous_post_id": {"type": "string", "pattern": "^[0-9]{1,19}$"}},
            "additionalProperties": False,
        },
        "for_super_followers_only": {"type": "boolean"},
        "geo": {
            "type": "object",
            "required": ["place_id"],
            "properties": {"place_id": {"type": "string"}},
            "additionalProperties": False,
        },
        "made_with_ai": {"type": "boolean"},
        "media": {
            "type": "object",
            "required": ["media_ids"],
            "properties": {
                "call_to_actions": {
                    "type": "object",
                    "properties": {
                        "app_install": {
                            "type": "object",
                            "properties": {
                                "app_store_id": {"type": "string"},
                                "ipad_app_store_id": {"type": "string"},
                                "play_store_id": {"type": "string"},
                            },
                            "additionalProperties": False,
                        },
                        "visit_site": {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string"}},
                            "additionalProperties": False,
                        },
                        "watch_now": {
                            "type": "object",
                            "required": ["url"],
                            "properties": {"url": {"type": "string"}},
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
                "embeddable": {"type": "boolean"},
                "media_ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 4,
                    "items": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                },
                "preview_media_id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                "tagged_user_ids": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                },
                "title": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "nullcast": {"type": "boolean"},
        "paid_partnership": {"type": "boolean"},
        "poll": {
            "type": "object",
            "required": ["options", "duration_minutes"],
            "properties": {
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 10080},
                "options": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 4,
                    "items": {"type": "string", "minLength": 1, "maxLength": 25},
                },
                "reply_settings": {
                    "type": "string",
                    "enum": ["following", "mentionedUsers", "subscribers", "verified"],
                },
            },
            "additionalProperties": False,
        },
        "quote_tweet_id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
        "reply": {
            "type": "object",
            "required": ["in_reply_to_tweet_id"],
            "properties": {
                "auto_populate_reply_metadata": {"type": "boolean"},
                "exclude_reply_user_ids": {"type": "array", "items": {"type": "string"}},
                "in_reply_to_tweet_id": {"type": "string", "pattern": "^[0-9]{1,19}$"},
            },
            "additionalProperties": False,
        },
        "reply_settings": {
            "type": "string",
            "enum": ["following", "mentionedUsers", "subscribers", "verified"],
        },
        "share_with_followers": {"type": "boolean"},
        "text": {"type": "string"},
    },
    "additionalProperties": False,
}  # components/schemas/CreatePostsRequest
INVALID_REQUEST_PROBLEM: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "detail"],
    "properties": {
        "detail": {"type": "string"},
        "parameter": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "type": {"type": "string", "enum": ["https://api.x.com/2/problems/invalid-request"]},
        "value": {"type": "string"},
    },
}  # components/schemas/InvalidRequestProblem


# -- query parameters: components/parameters and the paths' own ----------------------

POST_FIELDS = ["article", "article_title", "attachments", "card_uri", "community_id",
    "context_annotations", "conversation_id", "created_at", "display_text_range",
    "edit_controls", "entities", "geo", "id", "lang", "matched_media_notes", "media_metadata",
    "non_public_metrics", "note_post", "note_request_suggestions", "organic_metrics",
    "paid_partnership", "possibly_sensitive", "promoted_metrics", "public_metrics",
    "reply_settings", "scopes", "source", "suggested_source_links",
    "suggested_source_links_with_counts", "text", "withheld"]  # fmt: skip
POST_EXPANSIONS = ["article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
    "edit_history_post_ids", "entities.mentions.username", "geo.place_id",
    "in_reply_to_user_id", "referenced_posts", "username"]  # fmt: skip
USER_FIELDS = ["confirmed_email", "connection_status", "created_at", "description", "entities",
    "id", "is_identity_verified", "location", "name", "parody", "profile_banner_url",
    "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscribes_to_you", "subscription", "subscription_type", "url", "username", "verified",
    "verified_followers_count", "verified_type", "withheld"]  # fmt: skip
USER_EXPANSIONS = ["affiliation", "most_recent_post_id", "pinned_post_id"]
MEDIA_FIELDS = ["alt_text", "duration_ms", "height", "media_key", "non_public_metrics",
    "organic_metrics", "preview_image_url", "promoted_metrics", "public_metrics", "type", "url",
    "variants", "width"]  # fmt: skip
POLL_FIELDS = ["duration_minutes", "end_datetime", "id", "options", "voting_status"]
PLACE_FIELDS = ["contained_within", "country", "country_code", "full_name", "geo", "id", "name",
    "place_type"]  # fmt: skip


def _csv(values: list[str]) -> dict[str, Any]:
    """A ``style: form, explode: false`` array of enum strings (``a,b,c``)."""
    return {"type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"type": "string", "enum": values}}  # fmt: skip


ID = {"type": "string", "pattern": "^[0-9]{1,19}$"}
DATE_TIME = {"type": "string", "format": "date-time"}

USERS_ME_QUERY: dict[str, dict[str, Any]] = {
    "user.fields": _csv(USER_FIELDS),
    "expansions": _csv(USER_EXPANSIONS),
    "post.fields": _csv(POST_FIELDS),
}
USER_POSTS_QUERY: dict[str, dict[str, Any]] = {
    "max_results": {"type": "integer", "minimum": 5, "maximum": 100, "format": "int32"},
    "pagination_token": {"type": "string", "minLength": 1},
    "start_time": DATE_TIME,  # "Must be on or after 2010-11-06."
    "end_time": DATE_TIME,
    "since_id": ID,
    "until_id": ID,
    "exclude": {**_csv(["replies", "retweets"])},
    "post.fields": _csv(POST_FIELDS),
    "expansions": _csv(POST_EXPANSIONS),
    "user.fields": _csv(USER_FIELDS),
    "media.fields": _csv(MEDIA_FIELDS),
    "poll.fields": _csv(POLL_FIELDS),
    "place.fields": _csv(PLACE_FIELDS),
}


class Endpoint:
    """One operation: its path pattern, query parameters and request bodies."""

    def __init__(self, method: str, template: str, query: dict[str, dict[str, Any]],
                 bodies: dict[str, dict[str, Any]] | None = None) -> None:  # fmt: skip
        self.method = method
        self.template = template
        self.query = query
        self.bodies = bodies or {}  # media type -> schema; a declared body is required
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.path = re.compile(pattern + "$")


ENDPOINTS = [
    Endpoint(
        "POST",
        "/2/media/upload",
        {},
        {"multipart/form-data": MEDIA_UPLOAD_REQUEST, "application/json": MEDIA_UPLOAD_REQUEST},
    ),  # fmt: skip
    Endpoint("POST", "/2/media/metadata", {}, {"application/json": CREATE_MEDIA_METADATA_REQUEST}),
    Endpoint("POST", "/2/tweets", {}, {"application/json": CREATE_POSTS_REQUEST}),
    Endpoint("GET", "/2/users/me", USERS_ME_QUERY),
    Endpoint("GET", "/2/users/{id}/tweets", USER_POSTS_QUERY),
]
PATH_PARAMETERS = {"id": ID}  # UserId


def invalid_request(parameter: str, value: Any, message: str) -> dict[str, Any]:
    """X's 400: an ``InvalidRequestProblem``, with the ``errors`` list X's answers carry."""
    shown = value if isinstance(value, str) else ("" if value is None else str(value))
    return {
        "errors": [{"parameters": {parameter: [shown]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST,
        "parameter": parameter,
        "value": shown,
        "status": 400,
    }


def _first_error(schema: dict[str, Any], value: Any) -> str | None:
    error = next(iter(OAS30Validator(schema).iter_errors(value)), None)
    return None if error is None else error.message


def _body_error(schema: dict[str, Any], body: Any) -> tuple[str, str] | None:
    """(the offending field's dotted name, the validator's message), or None."""
    errors = sorted(OAS30Validator(schema).iter_errors(body),
                    key=lambda e: e.validator != "additionalProperties")  # fmt: skip
    if not errors:
        return None
    error = errors[0]  # an undeclared field first: the most telling
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
        extra = extra or re.findall(r"'([^']+)'", error.message)
        where = ".".join(p for p in (where, extra[0] if extra else "") if p)
    elif error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        where = ".".join(p for p in (where, missing[0] if missing else "") if p)
    return where or "body", error.message


def _query_value(schema: dict[str, Any], raw: str) -> Any:
    """A query string value as its schema's type (``ValueError`` if it is not one)."""
    kind = schema.get("type")
    if kind == "array":
        return raw.split(",")
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]+", raw):
            raise ValueError(raw)
        return int(raw)
    if schema.get("format") == "date-time":
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))  # RFC 3339 needs a zone
        if when.tzinfo is None or when < datetime(2010, 11, 6, tzinfo=UTC):
            raise ValueError(raw)
    return raw


def match(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for endpoint in ENDPOINTS:
        found = endpoint.path.match(path)
        if endpoint.method == method and found:
            return endpoint, found.groupdict()
    return None


def check_request(endpoint: Endpoint, path_values: dict[str, str],
                  query: list[tuple[str, str]], content_type: str,
                  body: Any) -> dict[str, Any] | None:  # fmt: skip
    """The 400 body X gives a request that breaks its description, or None.

    ``body`` is the parsed request body: a dict for JSON, a dict of form field
    names to ``str`` (text fields) or ``bytes`` (files) for multipart, None
    when there is none.
    """
    for name, value in path_values.items():
        if _first_error(PATH_PARAMETERS[name], value):
            return invalid_request(name, value, f"The `{name}` path parameter is invalid: {value}")
    seen: set[str] = set()
    for name, raw in query:
        schema = endpoint.query.get(name)
        if schema is None:
            allowed = ",".join(endpoint.query)
            return invalid_request(
                name, raw, f"The query parameter [{name}] is not one of [{allowed}]"
            )
        if name in seen:
            return invalid_request(name, raw, f"The query parameter [{name}] is given twice")
        seen.add(name)
        try:
            value = _query_value(schema, raw)
        except ValueError:
            return invalid_request(
                name, raw, f"The `{name}` query parameter value [{raw}] is not valid"
            )
        problem = _first_error(schema, value)
        if problem:
            return invalid_request(
                name, raw, f"The `{name}` query parameter value [{raw}] is not valid: {problem}"
            )
    media_type = content_type.split(";")[0].strip().lower()
    if not endpoint.bodies:
        return None
    schema = endpoint.bodies.get(media_type)
    if schema is None:
        return invalid_request("body", media_type,
                               f"The request body must be one of: {', '.join(endpoint.bodies)}")  # fmt: skip
    if body is None:
        return invalid_request("body", None, "The request body is not valid " + media_type)
    if media_type == "multipart/form-data":  # raw bytes stand for ``format: binary``
        body = {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in body.items()}
    problem = _body_error(schema, body)
    if problem:
        where, message = problem
        return invalid_request(where, None, f"The request body is invalid at `{where}`: {message}")
    return None
