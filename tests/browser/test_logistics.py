"""A shipment and its documents in the portals, in headless Chromium against the gateways and the real network.

The Producer creates a shipment of a case it packed and uploads the consignment note; each party signs it in turn,
some with their account key (held by their gateway), some with their browser's key (held by nobody else); the
Retailer's early attempt is refused with the contract's message; the carrier records milestones with coordinates
and temperatures, then the proof of delivery is signed with the quantities received.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import pytest
from cryptography import x509

from app.evidence.verify import verify
from tests.app.shipping import packed_case, pdf
from tests.browser.conftest import posted

pytestmark = pytest.mark.fabric

SHIPMENT = f"SHP-B{random.randrange(10**6, 10**7)}"
BROWSER_FIELDS = {"publicKey", "signature", "label", "keyId", "transaction", "parameters", "document", "version",
                  "party", "form"}  # fmt: skip


class Party:
    """One organisation's user in the shared browser: its portal and credentials."""

    def __init__(self, portal, org: str, user, password: str):
        self.portal, self.org, self.user, self.password = portal, org, user, password

    def page(self):
        """The portal of this party, signed in (other portals' sessions stay: each gateway names its cookie)."""
        page = self.portal(self.org, sign_out=False)
        page.open("/portal/")
        if page.signed_in_as != self.user.username:
            page.sign_in(self.user.username, self.password)
        return page

    def create_browser_key(self) -> str:
        page = self.page()
        page.open("/portal/keys")
        page.click("#create-key")
        return page.wait.until(lambda d: page.find("#browser-key-state").get_attribute("data-key-id"))


@pytest.fixture(scope="module")
def parties(portal, new_user, browser):
    """Producer, carrier and consignee users; the carrier and the consignee have a browser key each."""
    browser.delete_all_cookies()
    made = {}
    for org in ("Producer", "Logistics", "Retailer"):
        user, password = new_user(org, "operator")
        made[org] = Party(portal, org, user, password)
    made["Logistics"].create_browser_key()
    made["Retailer"].create_browser_key()
    return made


@pytest.fixture(scope="module")
def case(api):
    """A case the Producer commissioned and packed (through the API): the unit the shipment carries."""
    return packed_case(api)


def status_of(page, form: str = "sign-form") -> tuple[str, str]:
    """Wait until the form's signing ends: (success|error, text). A success reloads the page soon after."""

    def ended(_driver):
        element = page.driver.find_element("css selector", f"#{form} .signing-status")
        kinds = {"success", "error"} & set(element.get_attribute("class").split())
        return (kinds.pop(), element.text) if kinds else False

    return page.navigation.until(ended)


def signatures(page) -> list[tuple[str, str]]:
    return [
        (tr.get_attribute("data-party"), tr.get_attribute("data-msp")) for tr in page.all("#signatures tr[data-party]")
    ]


def upload(page, kind: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{kind}.pdf"
        path.write_bytes(data)
        page.choose("kind", kind)
        page.find("input[name='file']").send_keys(str(path))
        page.submit("upload-document")


def sign_in_browser(page) -> tuple[str, str]:
    page.find("#sign-browser").click()
    return status_of(page)


@pytest.fixture(scope="module")
def consignment(parties, case):
    """The shipment, created in the Producer's portal, with its consignment note uploaded: the note's page URL."""
    page = parties["Producer"].page()
    page.open("/portal/shipments")
    page.fill("id", SHIPMENT)
    page.choose("carriers", "LogisticsMSP")
    page.choose("consignee", "RetailerMSP")
    for name, value in {"origin": "Hillside Farm", "origin_lat": "52.205", "origin_lon": "0.119",
                        "destination": "GreenGrocer DC", "destination_lat": "51.507", "destination_lon": "-0.128",
                        "units": case, "temp_min": "1", "temp_max": "8"}.items():  # fmt: skip
        page.fill(name, value)
    page.submit("create-shipment")
    assert page.flashes("success") == [f"created shipment {SHIPMENT}"], page.flashes("error")
    assert page.text("#shipment-status") == "created"
    upload(page, "consignment_note", pdf(SHIPMENT))
    assert page.flashes("success") == ["anchored consignment note version 1"], page.flashes("error")
    return page.driver.current_url.split(page.gateway.url, 1)[1]


def test_the_shipper_signs_with_its_account_key_and_the_consignee_is_refused_out_of_turn(parties, consignment):
    page = parties["Producer"].page()
    page.open(consignment)
    assert page.text("#document-status") == "awaiting signatures"
    page.submit("sign-account")
    assert page.flashes("success")[0].startswith("signed"), page.flashes("error")
    assert signatures(page) == [("shipper", "ProducerMSP")]

    retailer = parties["Retailer"].page()
    retailer.open(consignment)
    assert "waits for LogisticsMSP (carrier) to sign first" in retailer.text("#not-yet")
    retailer.fill("remarks", "too early")
    kind, text = sign_in_browser(retailer)
    assert kind == "error" and text.startswith("CONFLICT: "), text
    assert "LogisticsMSP" in text
    retailer.open(consignment)
    assert signatures(retailer) == [("shipper", "ProducerMSP")]  # nothing was recorded


def test_the_carrier_finds_the_note_in_its_inbox_and_signs_with_its_browser_key(parties, consignment, api):
    page = parties["Logistics"].page()
    page.driver.get_log("performance")
    page.open("/portal/inbox")
    page.click(f"#inbox tr[data-id='{SHIPMENT}:consignment_note'] a")
    assert page.text("#document-status") == "awaiting signatures"
    page.fill("remarks", "pallet sealed, 2 cases")
    kind, text = sign_in_browser(page)
    assert kind == "success", text
    page.navigation.until(lambda d: len(signatures(page)) == 2)  # the page reloads
    assert signatures(page) == [("shipper", "ProducerMSP"), ("carrier", "LogisticsMSP")]
    assert "pallet sealed, 2 cases" in page.text("#signatures")

    record = api("Logistics").get(f"/api/v1/documents/{SHIPMENT}:consignment_note").json
    carrier = record["signatures"][1]
    assert carrier["enrollmentId"] == parties["Logistics"].user.enrollment_id
    page.open("/portal/keys")  # a page with signing.js
    in_browser = page.driver.execute_async_script(
        "SupplyChainSigning.loadKey(arguments[0]).then((r) => arguments[1](r.certificate));",
        parties["Logistics"].user.enrollment_id,
    )
    signed_with = x509.load_pem_x509_certificate(carrier["certificate"].encode())
    assert signed_with == x509.load_pem_x509_certificate(in_browser.encode())  # the browser's key, not the account's
    assert signed_with != x509.load_pem_x509_certificate(parties["Logistics"].user.certificate)
    sent = [(url, json.loads(body)) for url, body in posted(page.driver) if "/portal/signing/" in url]
    assert [url.rsplit("/portal", 1)[1].split("/")[2] for url, _ in sent] == [
        "payload",
        "transactions",
        "transactions",
        "transactions",
    ]
    assert all(set(body) <= BROWSER_FIELDS for _, body in sent)
    assert not any("PRIVATE" in json.dumps(body) for _, body in sent)


def test_the_carrier_records_milestones_shown_on_the_timeline_map_and_chart(parties, consignment):
    page = parties["Logistics"].page()
    page.open(f"/portal/shipments/{SHIPMENT}")
    steps = [("picked_up", "Hillside Farm", "52.205", "0.119", "2026-03-02T13:00:00Z 4.2"),
             ("departed", "Cambridge depot", "52.19", "0.15", "2026-03-02T14:00:00Z 5.0"),
             ("arrived", "London cross-dock", "51.53", "-0.05", "2026-03-02T16:00:00Z 9.6"),
             ("delivered", "GreenGrocer DC", "51.507", "-0.128", "")]  # fmt: skip
    for kind, where, lat, lon, temperatures in steps:
        page.choose("type", kind)
        page.fill("location", where)
        page.fill("lat", lat)
        page.fill("lon", lon)
        page.fill("temperatures", temperatures)
        page.submit("record-milestone")
        assert page.flashes("success") == [f"recorded {kind.replace('_', ' ')} at {where}"], page.flashes("error")
    assert page.text("#shipment-status") == "delivered"
    assert [li.get_attribute("data-type") for li in page.all("#timeline li.milestone")] == [s[0] for s in steps]
    stops = page.all("#route-map svg g.stop")
    assert len(stops) == 6 and len(page.all("#route-map svg g.stop.origin")) == 1
    assert page.find("#route-map svg polyline.travelled").is_displayed()
    assert len(page.all("#readings-chart svg circle.reading")) == 2
    assert len(page.all("#readings-chart svg circle.excursion")) == 1
    assert page.text("#excursions").startswith("1 excursion(s) in 3 reading(s); allowed 1.0..8.0 °C")
    assert "temperature 9.6 CEL outside 1.0..8.0" in page.text("#timeline")


def test_the_consignee_signs_the_note_and_the_proof_of_delivery_with_its_received_quantities(parties, consignment,
                                                                                             case):  # fmt: skip
    retailer = parties["Retailer"].page()
    retailer.open(f"/portal/documents/{SHIPMENT}:consignment_note")
    retailer.submit("sign-account")
    assert retailer.text("#document-status") == "signed", retailer.flashes("error")

    carrier = parties["Logistics"].page()
    carrier.open(f"/portal/shipments/{SHIPMENT}")
    upload(carrier, "proof_of_delivery", pdf(f"{SHIPMENT} POD"))
    assert carrier.flashes("success") == ["anchored proof of delivery version 1"], carrier.flashes("error")
    carrier.submit("sign-account")
    assert carrier.flashes("success")[0].startswith("signed"), carrier.flashes("error")

    retailer.open("/portal/inbox")
    retailer.click(f"#inbox tr[data-id='{SHIPMENT}:proof_of_delivery'] a")
    assert retailer.find("#received input[type='hidden']").get_attribute("value") == case
    retailer.choose("condition", "damaged")
    retailer.fill("received-0", "1")
    retailer.fill("remarks", "one carton crushed")
    kind, text = sign_in_browser(retailer)
    assert kind == "success", text
    retailer.navigation.until(lambda d: retailer.text("#document-status") == "signed")  # the page reloads
    statement = retailer.text("#signatures tr[data-party='consignee'] .statement")
    assert statement == f"condition: damaged; received 1 × {case}; one carton crushed"
    retailer.open(f"/portal/shipments/{SHIPMENT}")
    assert retailer.text("#shipment-status").startswith("received")
    assert [tr.get_attribute("data-id") for tr in retailer.all("#documents tr[data-id]")] == [
        f"{SHIPMENT}:consignment_note", f"{SHIPMENT}:proof_of_delivery"]  # fmt: skip


def test_the_content_and_an_evidence_bundle_the_offline_verifier_accepts_are_one_click_away(
    parties, consignment, browser, fabric_network
):
    retailer = parties["Retailer"].page()
    retailer.open(f"/portal/documents/{SHIPMENT}:consignment_note")

    def fetched(css: str) -> tuple[int, str]:
        href = retailer.find(css).get_attribute("href")
        return browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])));", href)  # fmt: skip

    status, body = fetched("#content")
    assert (
        status == 200 and body == pdf(SHIPMENT).decode()
    )  # the Producer anchored it; the Retailer's gateway fetched it
    status, body = fetched("#evidence")
    assert status == 200, body
    bundle = json.loads(body)
    roots = [x509.load_pem_x509_certificate(fabric_network.layout.ca_cert(fabric_network.topology.org(org)).read_bytes())
             for org in ("Producer", "Logistics", "Retailer")]  # fmt: skip
    report = verify(bundle, roots)
    assert report.passed, report.text()  # the carrier's browser key chains to the Logistics CA like any other
    fingerprints = [td.text for td in retailer.all("#signatures code.fingerprint")]
    assert len(set(fingerprints)) == 3
