"""The public surface of app.fabric is pinned here."""

import inspect
import pathlib
import pkgutil
import re

import app.fabric

EXPECTED = {
    "BlockAndPrivateDataEventsRequest",
    "BlockEventsRequest",
    "ChaincodeEvent",
    "ChaincodeEventsRequest",
    "Checkpoint",
    "Checkpointer",
    "CloseableIterator",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "Contract",
    "DeliverError",
    "EndorseError",
    "ErrorDetail",
    "FileCheckpointer",
    "FilteredBlockEventsRequest",
    "Gateway",
    "GatewayError",
    "Hash",
    "Identity",
    "InMemoryCheckpointer",
    "Network",
    "PrivateKeySigner",
    "Proposal",
    "Signer",
    "Status",
    "SubmitError",
    "SubmittedTransaction",
    "Timeouts",
    "Transaction",
    "TxValidationCode",
    "X509Identity",
    "connect",
    "load_certificate",
    "load_private_key",
    "new_grpc_channel",
    "new_private_key_signer",
    "new_transaction_id",
    "none",
    "normalize_der_signature",
    "p1363_to_der",
    "serialize_identity",
    "sha256",
    "tls_certificate_hash",
}


def test_public_api_is_exactly_what_all_declares():
    modules = {module.name for module in pkgutil.iter_modules(app.fabric.__path__)}
    exported = {name for name in dir(app.fabric) if not name.startswith("_")} - modules
    assert set(app.fabric.__all__) == exported == EXPECTED
    for name in app.fabric.__all__:
        member = getattr(app.fabric, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__doc__, name


def test_the_client_package_imports_nothing_else_from_the_application():
    package = pathlib.Path(app.fabric.__file__).parent
    for source in package.glob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+app\.(?!fabric\b)", source.read_text(), re.M), source
