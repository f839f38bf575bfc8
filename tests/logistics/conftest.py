"""Fixtures of the logistics tests: actors of each organisation (with a role where it matters) on the real
network, and goods commissioned in provenance for them to ship."""

from __future__ import annotations

import json

import pytest

from app.fabric import (
    X509Identity,
    connect,
    load_private_key,
    new_grpc_channel,
    new_private_key_signer,
)
from tests.app.story import Story
from tests.helpers import eventually
from tests.logistics.actors import CHANNEL, MSP, ORGS, Actor


@pytest.fixture(scope="session")
def settle(gateway_for):
    """``settle(tx_id)``: wait until every organisation's peer has committed the transaction."""
    qscc = [gateway_for(org).get_network(CHANNEL).get_contract("qscc") for org in ORGS]

    def wait(tx_id: str) -> None:
        for contract in qscc:
            eventually(lambda c=contract: c.evaluate_transaction("GetTransactionByID", CHANNEL, tx_id))

    return wait


@pytest.fixture(scope="session")
def actor(fabric_network, gateway_for, gateway_app, new_user, settle):
    """``actor(org, role=None)``: User1 of ``org`` (no role attribute), or a new user of that role (cached)."""
    made = {}

    def make(org: str, role: str | None = None, fresh: bool = False) -> Actor:
        if (org, role) in made and not fresh:
            return made[(org, role)]
        if role is None:
            organization = fabric_network.topology.org(org)
            msp = fabric_network.layout.identity(organization, "User1") / "msp"
            certificate = (msp / "signcerts" / "cert.pem").read_bytes()
            key = load_private_key((msp / "keystore" / "key.pem").read_bytes())
            gateway = gateway_for(org)
        else:
            user, _ = new_user(org, role)
            with gateway_app(org).app_context():
                key = user.signing_key()
            certificate = user.certificate
            organization = fabric_network.topology.org(org)
            peer = organization.peers[0]
            channel = new_grpc_channel(peer.address, fabric_network.layout.ca_cert(organization).read_bytes(),
                                       server_name_override=peer.host)  # fmt: skip
            gateway = connect(X509Identity(MSP[org], certificate), new_private_key_signer(key), channel=channel)
        made[(org, role)] = Actor(org, certificate, key, gateway, settle)
        return made[(org, role)]

    return make


def packed_case(producer: Actor) -> Story:
    """A fresh case of three eggs (product class kept at 1..8 °C), packed and held by the Producer."""
    story = Story()
    producer.submit("RegisterProductClass", json.dumps({**story.product(), "producer": "ProducerMSP"}),
                    contract=producer.provenance)  # fmt: skip
    producer.submit("CaptureEvents", json.dumps(Story.document(story.commission(), story.pack())),
                    contract=producer.provenance)  # fmt: skip
    return story


@pytest.fixture
def goods(actor):
    """``goods()``: a fresh case packed and held by the Producer (see ``packed_case``)."""
    return lambda: packed_case(actor("Producer"))
