"""What the test servers (slapd, the OpenID Connect provider) share: a free
loopback port, waiting for a port to answer, a throwaway certificate
authority, and stopping a process that was started."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
#: The groups the test directory and provider have for each role (a city's names).
ROLE_GROUPS = {
    "applicant": "cloudjudge-applicants",
    "security": "cloudjudge-security",
    "ciso": "cloudjudge-ciso",
    "auditor": "cloudjudge-auditors",
    "admin": "cloudjudge-admins",
}


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick), so that two test
    runs on one machine do not collide."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    """Return once ``port`` accepts connections; fail with the log if the
    process died or the time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{read(log)}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"did not listen on {HOST}:{port} within {timeout} s:\n{read(log)}")


def stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def read(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def make_ca(folder: Path, name: str = "cloudjudge test CA") -> tuple[Path, Path, Path]:
    """A certificate authority made now (never committed) and a server
    certificate it signed for 127.0.0.1 and localhost: (CA certificate,
    server certificate, server key) as PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2))

    def certificate(subject, issuer, public_key, signing_key, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca_cert = certificate(
        ca_name,
        ca_name,
        ca_key.public_key(),
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            ),
        ],
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
        ca_name,
        server_key.public_key(),
        ca_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
                ),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return paths


def run_by_hand(name: str, make, argv: list[str]) -> int:
    """``start`` / ``stop`` for a developer's own runs (``scripts/*-test-server``):
    start leaves the server running, writes its pid to ``FOLDER/server.pid`` and
    prints the environment that points cloudjudge at it; stop ends it."""
    import contextlib
    import json
    import os
    import signal

    command = argv[0] if argv else "start"
    server = make()
    pid_file = server.folder / "server.pid"
    if command == "stop":
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            pid_file.unlink()
        return 0
    if command != "start":
        print(f"usage: {name} start|stop")
        return 2
    server.start()
    pid_file.write_text(str(server.process.pid))
    (server.folder / "environ.json").write_text(json.dumps(server.environ(), indent=1))
    for key, value in server.environ().items():
        print(f"{key}={value}")
    return 0
