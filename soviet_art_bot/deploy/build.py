"""The Lambda zip: Linux wheels for the runtime plus the package code, reproducible.

Dependencies are installed by pip into a directory named after a hash of the
requirement files and pip's arguments, so an unchanged set is reused by the
next run. Fixed timestamps and order make the same files give the same bytes,
so a redeploy of unchanged code is detected (and skipped) by comparing the
zip's hash with the CodeSha256 Lambda reports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .aws import DeployError
from .settings import DEFAULT_RUNTIME, RUNTIMES

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = "soviet_art_bot"
HANDLER = "soviet_art_bot.handler.lambda_handler"
# Lambda refuses a directly uploaded zip over 50 MB.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024

BASE_REQUIREMENTS = "requirements.txt"
PLATFORM_REQUIREMENTS = {
    "mastodon": "requirements-mastodon.txt",
    "bluesky": "requirements-bluesky.txt",
}
GALLERY_REQUIREMENTS = "requirements-gallery.txt"  # Jinja2, only with ART_BOT_GALLERY=true

Runner = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Build:
    """A deployment zip and what Lambda will report about it."""

    path: Path
    size: int
    sha256: str  # base64, as Lambda's CodeSha256
    reused_dependencies: bool = False

    @classmethod
    def of(cls, path: Path, *, reused: bool = False) -> Build:
        data = path.read_bytes()
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return cls(path, len(data), digest, reused)

    def describe(self) -> str:
        return f"{self.path} ({self.size / 1e6:.1f} MB, {self.size} bytes)"


def requirement_files(
    platforms: Iterable[str], root: Path = ROOT, *, gallery: bool = False
) -> list[Path]:
    """requirements.txt plus each enabled platform's own file (and the gallery's
    when ART_BOT_GALLERY is on); all must exist."""
    files = [root / BASE_REQUIREMENTS]
    files += [root / PLATFORM_REQUIREMENTS[p] for p in platforms if p in PLATFORM_REQUIREMENTS]
    files += [root / GALLERY_REQUIREMENTS] if gallery else []
    for path in files:
        if not path.is_file():
            which = next((p for p, f in PLATFORM_REQUIREMENTS.items() if f == path.name), None)
            why = f"the {which} platform needs it" if which else "it lists the Lambda's packages"
            if path.name == GALLERY_REQUIREMENTS:
                why = "ART_BOT_GALLERY=true needs it"
            raise ConfigError(f"{path} is missing ({why}); restore it from the repository")
    return files


def _skip(rel: Path) -> bool:
    parts = rel.parts
    return (
        "__pycache__" in parts
        or rel.suffix in (".pyc", ".pyo")
        or (len(parts) > 0 and parts[0] in ("bin", "__pycache__"))
        or (len(parts) > 2 and parts[1] == "tests")  # a dependency's own test suite
        or (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD")
    )


def _package_files(root: Path) -> list[tuple[str, Path]]:
    """The package's files, less this deploy package and the screening (a classifier
    runs at ingest only): the function never runs them."""
    out = []
    for path in sorted((root / PACKAGE).rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[:2] == (PACKAGE, "deploy") or rel.parts == (PACKAGE, "screening.py"):
            continue
        if path.is_file() and "__pycache__" not in rel.parts and rel.suffix not in (".pyc", ".pyo"):
            out.append((rel.as_posix(), path))
    return out


def _write_zip(dest: Path, entries: Iterable[tuple[str, Path]]) -> None:
    """A reproducible zip: same files, same bytes, same CodeSha256."""
    tmp = dest.with_suffix(".zip.partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(dest)


def _pip_args(runtime: str, reqs: Sequence[Path], wheelhouse: Path | None) -> list[str]:
    """pip's arguments for Linux wheels of ``runtime``, whatever this machine is."""
    py_version, wheel_platforms = RUNTIMES[runtime]
    args = ["--implementation", "cp", "--python-version", py_version, "--only-binary=:all:"]
    for plat in wheel_platforms:
        args += ["--platform", plat]
    if wheelhouse is not None:
        args += ["--no-index", "--find-links", str(wheelhouse)]
    for path in reqs:
        args += ["-r", str(path)]
    return args


def _install(site: Path, pip_args: list[str], run: Runner) -> None:
    """pip into ``site`` through a partial directory, so a failure leaves no cache."""
    shutil.rmtree(site, ignore_errors=True)
    partial = site.with_name(site.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-compile", "--target", str(partial), *pip_args]
    proc = run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        last = next((line for line in reversed(detail) if line.strip()), "no output")
        shutil.rmtree(partial, ignore_errors=True)
        raise DeployError(f"pip could not install the Lambda's packages: {last.strip()}")
    partial.rename(site)


def build_zip(
    platforms: Sequence[str],
    *,
    runtime: str = DEFAULT_RUNTIME,
    root: Path = ROOT,
    build_dir: Path | None = None,
    requirements: Sequence[Path] | None = None,
    wheelhouse: Path | None = None,
    rebuild: bool = False,
    run: Runner = subprocess.run,
    gallery: bool = False,
) -> Build:
    """Build ``build/lambda.zip``; ``wheelhouse`` makes pip install only from
    that directory (no index), for offline builds and the tests."""
    build_dir = (root / "build") if build_dir is None else build_dir
    reqs = (
        list(requirements)
        if requirements is not None
        else requirement_files(platforms, root, gallery=gallery)
    )
    for path in reqs:
        if not path.is_file():
            raise ConfigError(f"{path} is missing; it lists packages for the Lambda zip")
    pip_args = _pip_args(runtime, reqs, wheelhouse)
    key = hashlib.sha256(json.dumps(pip_args).encode())
    for path in reqs:
        key.update(path.read_bytes())
    site = build_dir / f"site-{runtime}-{key.hexdigest()[:16]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    reused = site.is_dir() and not rebuild
    if not reused:
        _install(site, pip_args, run)
    entries: dict[str, Path] = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        if path.is_file() and not _skip(rel) and rel.parts[0] != PACKAGE:
            entries[rel.as_posix()] = path
    entries.update(_package_files(root))
    dest = build_dir / "lambda.zip"
    _write_zip(dest, entries.items())
    return Build.of(dest, reused=reused)


def check_zip(path: Path) -> Build:
    """Accept a zip only if it holds the handler the function will call and fits
    Lambda's direct upload."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ConfigError(f"{path} is not a zip file; build one with --build-only")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    handler_file = HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    if handler_file not in names:
        raise ConfigError(f"{path} does not contain {handler_file}; rebuild it")
    build = Build.of(path)
    if build.size > DIRECT_UPLOAD_LIMIT:
        raise DeployError(
            f"{path} is {build.size / 1e6:.1f} MB, over Lambda's 50 MB upload limit; "
            "enable fewer platforms in ART_BOT_PLATFORMS"
        )
    return build
