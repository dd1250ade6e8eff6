"""Stores: an S3 bucket/prefix or a local directory, with one interface.

Both hold the layout of DESIGN.md (``catalog.json``, ``images/``, ``state/``).
Writes never expose a half-written object: S3 PUTs are atomic, and the
directory store writes a temporary file under ``.partial/`` and renames it
into place. State updates are compare-and-swap on an *etag*: S3's own ETag
with ``If-Match``/``If-None-Match``, or, for a directory, the SHA-256 of the
content checked under an exclusive ``flock`` (mtimes are too coarse to tell
two quick writes apart).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import stat
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .config import AWS_SETUP_ERRORS, check_store_url
from .errors import (
    ArtBotError,
    Conflict,
    NotFound,
    NotRegularFile,
    ObjectTooLarge,
    StoreError,
    brief,
)

PARTIAL_DIR = ".partial"
LOCK_DIR = ".locks"
_CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    for test, name in (
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about an object without reading it."""

    key: str
    size: int
    etag: str
    """A version tag. ``head`` and ``read_versioned`` give the one compare-and-swap
    uses; a directory's ``list`` gives a cheaper one (mtime and size)."""


MAX_KEY_BYTES = 1024  # S3's limit on a key, prefix included
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store root, name its internals, or that a
    file system or S3 would read differently (NUL and other control characters)."""
    path = PurePosixPath(key)
    if (
        not key
        or _CONTROL.search(key)
        or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
        or key.startswith("/")
        or "\\" in key
        or any(part in ("", ".", "..") for part in key.split("/"))
        or path.parts[0] in (PARTIAL_DIR, LOCK_DIR)
    ):
        raise StoreError(
            f"refusing store key {brief(key)}: keys are relative paths without '..' or "
            "control characters"
        )
    return key


class Store(ABC):
    """An object store holding one collection. Keys are ``/``-separated."""

    url: str

    @abstractmethod
    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        """The object's bytes; :class:`NotFound` if absent, :class:`ObjectTooLarge`
        once more than ``max_bytes`` were read."""

    @abstractmethod
    def read_versioned(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, str] | None:
        """The object's bytes and etag, or None if absent (for compare-and-swap)."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Size and etag without reading the body, or None if absent."""

    @abstractmethod
    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        """Replace the object atomically; returns the new etag."""

    @abstractmethod
    def write_if(
        self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None
    ) -> str:
        """Compare-and-swap: write only if the current etag is ``etag``.

        ``etag=None`` means "only if the object does not exist yet". Raises
        :class:`Conflict` when another writer got there first.
        """

    @abstractmethod
    def write_file(self, key: str, path: Path, *, content_type: str | None = None) -> str:
        """Upload a local file atomically; returns the new etag."""

    @abstractmethod
    def download(self, key: str, dest: Path, *, max_bytes: int | None = None) -> int:
        """Stream the object into ``dest``; returns its size. :class:`NotFound` if absent."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object if it exists."""

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def describe(self, key: str) -> str:
        """Where ``key`` lives, for messages."""
        return f"{self.url.rstrip('/')}/{key}"


class DirStore(Store):
    """A collection in a local directory.

    Nothing outside the root is ever read or written: every path below the
    root is opened one component at a time relative to its parent's file
    descriptor with ``O_NOFOLLOW``, so a symbolic link anywhere in a key (an
    image linked to ``/etc/passwd``, an ``images`` folder linked elsewhere) is
    refused, never followed; and only regular files are read, so a FIFO or a
    device (``/dev/zero``) cannot hang a read or feed it without end. The
    root itself may be a link: that is the operator's choice of directory.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self.url = str(self.root)

    # -- confined paths ------------------------------------------------------

    def _open_dir(self, key: str, parts: list[str], *, create: bool = False) -> int:
        """A descriptor of the directory ``root/parts...``, following no link below root.

        ``key`` is what the caller is after, for messages.
        """
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for depth, part in enumerate(parts, 1):
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o777, dir_fd=fd)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise self._not_a_folder(key, parts[:depth], exc, create) from None
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _not_a_folder(self, key: str, parts: list[str], exc: OSError, create: bool) -> Exception:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            return exc
        path = self.root.joinpath(*parts)
        try:
            kind = _kind(os.lstat(path).st_mode)
        except OSError:
            return exc
        if kind == "symbolic link" or create:
            return self._not_regular(key, kind, path, expected="folder")
        return NotFound(key, self.describe(key))  # a file where a folder would be

    def _open_file(self, key: str) -> int:
        """A descriptor of the regular file at ``key``; refuses links, FIFOs, devices."""
        *dirs, name = check_key(key).split("/")
        try:
            parent = self._open_dir(key, dirs)
            try:
                fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(key, self.describe(key)) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._not_regular(key, "symbolic link") from None
            raise StoreError(
                f"cannot read {self.describe(key)}: {exc.strerror or exc}; check that "
                f"{self.root} is a directory this user can read"
            ) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise self._not_regular(key, _kind(mode))
        return fd

    def _not_regular(
        self, key: str, kind: str, path: Path | None = None, *, expected: str = "regular file"
    ) -> NotRegularFile:
        where = "" if path is None else f" ({path} is one)"
        fix = (
            "the store never follows links: put the file itself there (copy it, do not link it)"
            if kind == "symbolic link"
            else f"replace it with a {expected}"
        )
        return NotRegularFile(
            f"refusing {self.describe(key)}: it is a {kind}{where}, not a {expected} inside "
            f"the store; {fix}"
        )

    def _read_fd(
        self, fd: int, key: str, max_bytes: int | None, sink: Callable[[bytes], Any]
    ) -> int:
        """Feed the file to ``sink`` in chunks, counting what is actually read."""
        total = 0
        with os.fdopen(fd, "rb", closefd=True) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise ObjectTooLarge(
                        f"{self.describe(key)} is over {max_bytes:,} bytes; it cannot be read"
                    )
                sink(chunk)
        return total

    @contextlib.contextmanager
    def _os_errors(self, action: str, key: str) -> Iterator[None]:
        """Turn the file system's complaints into one line naming the path and the fix."""
        try:
            yield
        except OSError as exc:
            raise StoreError(
                f"cannot {action} {self.describe(key)}: {exc.strerror or exc}; check that "
                f"{self.root} is a directory this user can read and write"
            ) from None

    def _atomic(self, key: str, fill: Callable[[IO[bytes]], None]) -> None:
        """Write through a temporary file under .partial/, then rename it into place."""
        *dirs, name = check_key(key).split("/")
        with self._os_errors("write", key):
            tmpdir = self._open_dir(key, [PARTIAL_DIR], create=True)
            try:
                tmp_name = f"{name[:80]}.{secrets.token_hex(8)}"
                fd = os.open(tmp_name, _NEW_FILE_FLAGS, 0o600, dir_fd=tmpdir)
                try:
                    with os.fdopen(fd, "wb") as tmp:
                        fill(tmp)
                        tmp.flush()
                        os.fsync(tmp.fileno())
                    parent = self._open_dir(key, dirs, create=True)
                    try:
                        os.replace(tmp_name, name, src_dir_fd=tmpdir, dst_dir_fd=parent)
                    finally:
                        os.close(parent)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp_name, dir_fd=tmpdir)
                    raise
            finally:
                os.close(tmpdir)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        # 256 lock files at most, shared by keys with the same hash prefix: the
        # locks never pile up, and two keys rarely wait for each other.
        name = hashlib.sha256(key.encode()).hexdigest()[:2] + ".lock"
        with self._os_errors("lock", key):
            lockdir = self._open_dir(key, [LOCK_DIR], create=True)
            try:
                fd = os.open(name, _LOCK_FLAGS, 0o600, dir_fd=lockdir)
            finally:
                os.close(lockdir)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @staticmethod
    def _etag(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    # -- the Store interface ---------------------------------------------------

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        parts: list[bytes] = []
        fd = self._open_file(key)
        with self._os_errors("read", key):
            self._read_fd(fd, key, max_bytes, parts.append)
        return b"".join(parts)

    def read_versioned(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, str] | None:
        try:
            data = self.read(key, max_bytes=max_bytes)
        except NotFound:
            return None
        return data, self._etag(data)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            fd = self._open_file(key)
        except NotFound:
            return None
        digest = hashlib.sha256()
        with self._os_errors("read", key):
            size = self._read_fd(fd, key, None, digest.update)
        return ObjectInfo(key, size, digest.hexdigest())

    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        self._atomic(key, lambda tmp: tmp.write(data))
        return self._etag(data)

    def write_if(
        self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None
    ) -> str:
        with self._locked(key):
            current = self.read_versioned(key)
            current_etag = current[1] if current else None
            if current_etag != etag:
                raise Conflict(self.describe(key))
            return self.write(key, data)

    def write_file(self, key: str, path: Path, *, content_type: str | None = None) -> str:
        digest = hashlib.sha256()

        def fill(tmp: IO[bytes]) -> None:
            with open(path, "rb") as src:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    digest.update(chunk)
                    tmp.write(chunk)

        self._atomic(key, fill)
        return digest.hexdigest()

    def download(self, key: str, dest: Path, *, max_bytes: int | None = None) -> int:
        fd = self._open_file(key)
        try:
            with open(dest, "wb") as out, self._os_errors("read", key):
                return self._read_fd(fd, key, max_bytes, out.write)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dest)
            raise

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Regular files only: a link or a FIFO is not an object of this store."""
        if not self.root.is_dir():
            return
        top = self._list_top(prefix)
        if top is None:
            return
        for dirpath, dirnames, filenames in os.walk(top):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            if rel_dir == ".":
                dirnames[:] = [d for d in dirnames if d not in (PARTIAL_DIR, LOCK_DIR)]
                rel_dir = ""
            dirnames.sort()
            for name in sorted(filenames):
                key = f"{rel_dir}/{name}" if rel_dir else name
                if key.startswith(prefix):
                    try:
                        st = os.lstat(os.path.join(dirpath, name))
                    except FileNotFoundError:
                        continue  # removed while listing
                    if stat.S_ISREG(st.st_mode):
                        yield ObjectInfo(key, st.st_size, f"{st.st_mtime_ns:x}-{st.st_size:x}")

    def _list_top(self, prefix: str) -> Path | None:
        """The deepest folder holding every key under ``prefix``, so that a listing
        of ``state/slots/2026/`` walks that folder, not every image; None when a
        folder on the way is missing or is not a plain folder (a link is not
        followed), as then no key starts with ``prefix``."""
        top = self.root
        for part in prefix.split("/")[:-1]:
            if part in ("", ".", "..") or (top == self.root and part in (PARTIAL_DIR, LOCK_DIR)):
                return self.root  # not a key's folder: walk everything, keys filter below
            try:
                if not stat.S_ISDIR(os.lstat(top / part).st_mode):
                    return None
            except FileNotFoundError:
                return None
            except OSError:
                return self.root
            top = top / part
        return top

    def delete(self, key: str) -> None:
        *dirs, name = check_key(key).split("/")
        with self._os_errors("delete", key), contextlib.suppress(FileNotFoundError):
            parent = self._open_dir(key, dirs)
            try:
                os.unlink(name, dir_fd=parent)
            finally:
                os.close(parent)

    def clean_partials(self) -> int:
        """Remove temporary files a killed writer left behind; returns how many."""
        count = 0
        try:
            tmpdir = self._open_dir(PARTIAL_DIR, [PARTIAL_DIR])
        except OSError:
            return 0
        try:
            for name in os.listdir(tmpdir):
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=tmpdir)
                    count += 1
        finally:
            os.close(tmpdir)
        return count


class S3Store(Store):
    """A collection under ``s3://bucket/prefix``.

    The boto3 client is built lazily (so importing this module costs nothing)
    and may be injected; boto3 itself honours ``AWS_ENDPOINT_URL``, which is
    how tests and local S3 servers stand in for AWS.
    """

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from .config import aws_client

            self._client = aws_client("s3")
        return self._client

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, exc: Exception, key: str, action: str) -> ArtBotError:
        if isinstance(exc, ArtBotError):  # already says what to do (e.g. from aws_client)
            return exc
        code = _error_code(exc)
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(key, self.describe(key))
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
            return Conflict(self.describe(key))
        if code in AWS_SETUP_ERRORS:
            return StoreError(f"cannot {action} {self.describe(key)}: {AWS_SETUP_ERRORS[code]}")
        if code == "NoSuchBucket":
            return StoreError(
                f"bucket {self.bucket} does not exist; create it or fix ART_BOT_STORE"
            )
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return StoreError(
                f"access denied to {action} {self.describe(key)} ({code}); check the AWS "
                "credentials and the role's policy"
            )
        return StoreError(f"cannot {action} {self.describe(key)}: {code}")

    def _get(self, key: str, max_bytes: int | None) -> tuple[bytes, str]:
        """The body (at most ``max_bytes``, counted as read) and ETag of ``key``."""
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            body = resp["Body"].read() if max_bytes is None else resp["Body"].read(max_bytes + 1)
        except Exception as exc:
            raise self._error(exc, key, "read") from None
        if max_bytes is not None and len(body) > max_bytes:
            resp["Body"].close()
            raise ObjectTooLarge(f"{self.describe(key)} is over {max_bytes:,} bytes")
        return body, resp["ETag"]

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        return self._get(key, max_bytes)[0]

    def read_versioned(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, str] | None:
        try:
            return self._get(key, max_bytes)
        except NotFound:
            return None

    def head(self, key: str) -> ObjectInfo | None:
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            err = self._error(exc, key, "read")
            if isinstance(err, NotFound):
                return None
            raise err from None
        return ObjectInfo(key, resp["ContentLength"], resp["ETag"])

    def write(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        try:
            resp = self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, **extra
            )
        except Exception as exc:
            raise self._error(exc, key, "write") from None
        return resp["ETag"]

    def write_if(
        self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None
    ) -> str:
        condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
        if content_type:
            condition["ContentType"] = content_type
        try:
            resp = self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, **condition
            )
        except Exception as exc:
            err = self._error(exc, key, "write")
            if isinstance(err, NotFound):  # If-Match on a key that vanished
                err = Conflict(self.describe(key))
            raise err from None
        return resp["ETag"]

    def write_file(self, key: str, path: Path, *, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        try:
            with open(path, "rb") as fh:
                resp = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=fh, **extra
                )
        except Exception as exc:
            raise self._error(exc, key, "write") from None
        return resp["ETag"]

    def download(self, key: str, dest: Path, *, max_bytes: int | None = None) -> int:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._error(exc, key, "read") from None
        size = int(resp.get("ContentLength", 0))
        if max_bytes is not None and size > max_bytes:
            resp["Body"].close()
            raise ObjectTooLarge(f"{self.describe(key)} is {size} bytes, over {max_bytes}")
        written = 0
        try:
            with open(dest, "wb") as fh:
                for chunk in resp["Body"].iter_chunks(_CHUNK):
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:  # whatever it declared
                        resp["Body"].close()
                        raise ObjectTooLarge(
                            f"{self.describe(key)} is over {max_bytes:,} bytes; it cannot be read"
                        )
                    fh.write(chunk)
        except ObjectTooLarge:
            raise
        except Exception as exc:
            raise self._error(exc, key, "read") from None
        return written

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if ".." in prefix.split("/") or prefix.startswith("/") or _CONTROL.search(prefix):
            raise StoreError(f"refusing store prefix {brief(prefix)}")
        base = f"{self.prefix}/" if self.prefix else ""
        full = base + prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    yield ObjectInfo(obj["Key"][strip:], obj["Size"], obj["ETag"])
        except Exception as exc:
            raise self._error(exc, prefix or "/", "list") from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._error(exc, key, "delete") from None


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code = error.get("Code") or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        return str(code)
    return type(exc).__name__


def open_store(url: str, *, s3_client: Any = None) -> Store:
    """The store named by ``url``: ``s3://bucket[/prefix]`` or a directory path."""
    url = check_store_url(url)
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        return S3Store(bucket, prefix, client=s3_client)
    return DirStore(url)
