"""Running the LAN API with uvicorn, over HTTP or HTTPS, from the CLI or the desktop app."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import threading
from pathlib import Path

import uvicorn

from engine import EnclaveService, UserError

from .api import create_api
from .api_guard import Limits
from .settings import Settings

log = logging.getLogger(__name__)


def limits_from(settings: Settings) -> Limits:
    return Limits(settings.api_requests_per_minute, settings.api_concurrent_generations,
                  settings.api_queue_length, settings.api_max_upload_mb * 2**20)


def self_signed_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for this machine (its name, localhost and `host`), valid one year."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(socket.gethostname())]
    for address in {"127.0.0.1", host}:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname())])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "api-cert.pem", folder / "api-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class ApiServer:
    """uvicorn serving `create_api(service)`; `start()` in a thread, `stop()` to end it."""

    def __init__(self, service: EnclaveService, settings: Settings, host: str | None = None,
                 port: int | None = None, tls: tuple[Path, Path] | None = None):
        self.host = host or settings.api_host
        self.port = settings.api_port if port is None else port
        cert, key = tls or (settings.api_tls_cert, settings.api_tls_key)
        if bool(cert) != bool(key):
            raise UserError("HTTPS needs both a certificate and its private key.")
        for path in (cert, key):
            if path and not Path(path).is_file():
                raise UserError(f"{path} is not a file.")
        self.tls = (Path(cert), Path(key)) if cert else None
        self.app = create_api(service, limits_from(settings))
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                ssl_certfile=str(self.tls[0]) if self.tls else None,
                                ssl_keyfile=str(self.tls[1]) if self.tls else None,
                                timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def bind(self) -> None:
        """Take the address now, before serving: the URL then names the port really taken
        (port 0 picks a free one), connections made from then on wait to be served, and an
        address in use is a clear error at once."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Connections accepted here inherit it. Without it, a response written in two
        # parts (head, then body) waited for the client's delayed ACK: 40 ms for every
        # request after the first on a kept-alive connection.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(self.server.config.backlog)  # connections wait from now on
        except OSError as error:
            sock.close()
            raise UserError(f"The API could not listen on {self.host}:{self.port}: "
                            f"{error.strerror or error}.") from None
        self._socket = sock

    @property
    def url(self) -> str:
        port = self.port
        if self._socket is not None:
            port = self._socket.getsockname()[1]
        elif self.server.started and self.server.servers:
            port = self.server.servers[0].sockets[0].getsockname()[1]
        host = "127.0.0.1" if self.host == "0.0.0.0" else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    @property
    def on_lan(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")

    def run(self) -> None:
        """Serve in this thread until interrupted (on the address `bind` took, if it did)."""
        self.server.run(sockets=[self._socket] if self._socket is not None else None)

    def start(self, timeout: float = 15) -> None:
        self._thread = threading.Thread(target=self.server.run, name="api-server", daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout * 20)):
            if self.server.started or not self._thread.is_alive():
                break
            deadline.wait(0.05)
        if not self.server.started:
            raise UserError(f"The API could not listen on {self.host}:{self.port} "
                            "(is the port in use?).")

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
