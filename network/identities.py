"""Each organisation's Fabric CA, and every identity it issues (no cryptogen).

One CA per organisation issues both enrolment certificates (with the NodeOU role in the
OU: peer, orderer, admin, client) and TLS certificates (``tls`` signing profile). Every
enrolled identity lands in Fabric's MSP layout, normalised so that paths are stable:

    <identity>/msp/{signcerts/cert.pem, keystore/key.pem, cacerts/ca.pem, config.yaml}
    <identity>/tls/{server.crt, server.key, ca.crt}
"""

from __future__ import annotations

import datetime
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .binaries import Binaries
from .layout import Layout, msp_dir, tls_dir
from .topology import DOMAIN, Node, Organization

NODE_OU_CONFIG = {
    "NodeOUs": {
        "Enable": True,
        **{
            f"{role.capitalize()}OUIdentifier": {"Certificate": "cacerts/ca.pem", "OrganizationalUnitIdentifier": role}
            for role in ("client", "peer", "admin", "orderer")
        },
    }
}
ADMIN = "Admin"
DEFAULT_CLIENT = "User1"


class EnrollmentError(RuntimeError):
    """The CA refused a registration or enrolment; the message has the CA's answer."""


def ca_server_argv(binaries: Binaries, layout: Layout, org: Organization) -> list[str]:
    return [str(binaries.path("fabric-ca-server")), "start", "-H", str(layout.ca_home(org))]


def init_ca(binaries: Binaries, layout: Layout, org: Organization) -> None:
    """Create the CA's root key and certificate, its TLS certificate and its configuration, once."""
    home = layout.ca_home(org)
    if layout.ca_cert(org).exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    secret_file = layout.ca_bootstrap_secret(org)
    secret_file.write_text(secrets.token_urlsafe(24))
    secret_file.chmod(0o600)
    ca = org.ca
    proc = subprocess.run(
        [
            str(binaries.path("fabric-ca-server")), "init", "-H", str(home),
            "-b", f"admin:{secret_file.read_text()}",
            "--ca.name", ca.name,
            "--csr.cn", ca.host,
            "--csr.hosts", f"{ca.host},localhost,127.0.0.1",
        ],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise EnrollmentError(f"fabric-ca-server init for {org.name} failed: {_error_lines(proc.stderr)}")
    _issue_ca_tls_certificate(home, ca)
    config_file = home / "fabric-ca-server-config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["ca"]["name"] = ca.name  # init does not record --ca.name in the file it writes
    config["port"] = ca.port
    config["address"] = "127.0.0.1"
    config["tls"] = {"enabled": True, "certfile": "tls/server.crt", "keyfile": "tls/server.key"}
    config["operations"] = {
        "listenAddress": f"127.0.0.1:{ca.operations_port}",
        "tls": {"enabled": True, "certfile": "tls/server.crt", "keyfile": "tls/server.key"},
    }
    config["metrics"] = {"provider": "prometheus"}
    config["debug"] = False
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def _issue_ca_tls_certificate(home: Path, ca: Node) -> None:
    """Sign the CA server's own TLS certificate with its root key.

    fabric-ca-server only makes a TLS certificate for its main listener at first start;
    its operations endpoint needs one configured up front, so one is made for both here.
    """
    root_cert = x509.load_pem_x509_certificate((home / "ca-cert.pem").read_bytes())
    root_key = _find_private_key(home / "msp" / "keystore", root_cert.public_key())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca.host)]))
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(root_cert.not_valid_after_utc)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(ca.host), x509.DNSName("localhost"), x509.IPAddress(_loopback())]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    tls = home / "tls"
    tls.mkdir(exist_ok=True)
    (tls / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = tls / "server.key"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)


def _error_lines(stderr: str) -> str:
    """The lines of a CA tool's stderr that say what went wrong, never an enrolment secret."""
    lines = [ln for ln in stderr.splitlines() if "rror" in ln] or stderr.splitlines()[-5:]
    return "\n".join(re.sub(r"//[^:/@\s]+:[^@\s]+@", "//***@", ln) for ln in lines[-8:])


def _loopback():
    import ipaddress

    return ipaddress.ip_address("127.0.0.1")


def _find_private_key(keystore: Path, public_key) -> ec.EllipticCurvePrivateKey:
    want = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for f in sorted(keystore.glob("*_sk")):
        try:
            key = serialization.load_pem_private_key(f.read_bytes(), None)
        except ValueError:
            continue
        got = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if got == want:
            return key
    raise EnrollmentError(f"no private key in {keystore} matches the CA certificate")


class CAClient:
    """Registers and enrols identities with one organisation's running CA."""

    def __init__(self, binaries: Binaries, layout: Layout, org: Organization):
        self.binaries, self.layout, self.org = binaries, layout, org
        self.url = f"https://{org.ca.address}"
        self.tls_ca = layout.ca_cert(org)
        self.registrar_home = layout.ca_client_home(org)

    def _run(self, *args: str, home: Path) -> str:
        proc = subprocess.run(
            [str(self.binaries.path("fabric-ca-client")), *args, "-H", str(home),
             "--tls.certfiles", str(self.tls_ca), "--caname", self.org.ca.name],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            raise EnrollmentError(f"{self.org.ca.name}: fabric-ca-client {args[0]} failed: {_error_lines(proc.stderr)}")
        return proc.stdout

    def enroll_registrar(self) -> None:
        if (msp_dir(self.registrar_home) / "signcerts").exists():
            return
        secret = self.layout.ca_bootstrap_secret(self.org).read_text()
        self._run("enroll", "-u", f"https://admin:{secret}@{self.org.ca.address}", home=self.registrar_home)

    def ensure_identity(self, name: str, id_type: str, tls_hosts: list[str] | None = None, attrs: str = "") -> Path:
        """Register ``name`` (once) and enrol its MSP and, for nodes, its TLS certificate."""
        folder = self.layout.identity(self.org, name)
        if (msp_dir(folder) / "signcerts" / "cert.pem").exists() and (
            tls_hosts is None or (tls_dir(folder) / "server.crt").exists()
        ):
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        secret_file = folder / "enrollment.secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(18))
            secret_file.chmod(0o600)
            register = ["register", "--id.name", name, "--id.secret", secret_file.read_text(), "--id.type", id_type]
            if attrs:
                register += ["--id.attrs", attrs]
            try:
                self._run(*register, "-u", self.url, home=self.registrar_home)
            except EnrollmentError as err:
                if "already registered" not in str(err):
                    secret_file.unlink()
                    raise
        url = f"https://{name}:{secret_file.read_text()}@{self.org.ca.address}"
        work = folder / ".enroll"
        shutil.rmtree(work, ignore_errors=True)
        self._run("enroll", "-u", url, "-M", str(work / "msp"), "--csr.names", f"O={self.org.name}", home=work)
        _normalise_msp(work / "msp", msp_dir(folder))
        if tls_hosts is not None:
            hosts = ",".join([*tls_hosts, "localhost", "127.0.0.1"])
            self._run("enroll", "-u", url, "-M", str(work / "tls"), "--enrollment.profile", "tls",
                      "--csr.hosts", hosts, home=work)  # fmt: skip
            _normalise_tls(work / "tls", tls_dir(folder))
        shutil.rmtree(work)
        return folder


def _normalise_msp(src: Path, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    for sub in ("signcerts", "keystore", "cacerts", "tlscacerts"):
        (dst / sub).mkdir(parents=True)
    shutil.copy(src / "signcerts" / "cert.pem", dst / "signcerts" / "cert.pem")
    key = dst / "keystore" / "key.pem"
    shutil.copy(next((src / "keystore").iterdir()), key)
    key.chmod(0o600)
    ca = next((src / "cacerts").iterdir())
    shutil.copy(ca, dst / "cacerts" / "ca.pem")
    shutil.copy(ca, dst / "tlscacerts" / "tlsca.pem")
    (dst / "config.yaml").write_text(yaml.safe_dump(NODE_OU_CONFIG, sort_keys=False))


def _normalise_tls(src: Path, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    shutil.copy(src / "signcerts" / "cert.pem", dst / "server.crt")
    shutil.copy(next((src / "keystore").iterdir()), dst / "server.key")
    (dst / "server.key").chmod(0o600)
    shutil.copy(next((src / "tlscacerts").iterdir()), dst / "ca.crt")


def write_channel_msp(layout: Layout, org: Organization) -> Path:
    """The organisation's public MSP (CA certificates and NodeOU rules) for channel configs."""
    msp = layout.channel_msp(org)
    for sub in ("cacerts", "tlscacerts"):
        (msp / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(layout.ca_cert(org), msp / "cacerts" / "ca.pem")
    shutil.copy(layout.ca_cert(org), msp / "tlscacerts" / "tlsca.pem")
    (msp / "config.yaml").write_text(yaml.safe_dump(NODE_OU_CONFIG, sort_keys=False))
    return msp


def enroll_organization(binaries: Binaries, layout: Layout, org: Organization) -> None:
    """Every identity the organisation needs: its nodes, its admin, a default client."""
    client = CAClient(binaries, layout, org)
    client.enroll_registrar()
    for node in org.orderers:
        client.ensure_identity(node.name, "orderer", tls_hosts=[node.host, node.name])
    for node in org.peers:
        client.ensure_identity(node.name, "peer", tls_hosts=[node.host, node.name])
    if org.peer_count:
        cc = org.chaincode_service
        client.ensure_identity(cc.name, "client", tls_hosts=[cc.host, cc.name])
    # The admin registers the organisation's users later (clients only); its TLS client
    # certificate authenticates it to the orderers' channel participation API.
    client.ensure_identity(
        ADMIN, "admin", tls_hosts=[f"admin.{org.key}.{DOMAIN}"],
        attrs='"hf.Registrar.Roles=client",hf.Registrar.Attributes=*,hf.Revoker=true',
    )  # fmt: skip
    client.ensure_identity(DEFAULT_CLIENT, "client", tls_hosts=[f"user1.{org.key}.{DOMAIN}"])
    write_channel_msp(layout, org)
