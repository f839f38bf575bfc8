"""The portal and the public verification page in a real browser, against the gateway processes and real peers.

A Producer operator registers a product class, records a lot of eggs packed into a case and shipped, and
temperature readings of the case (one outside the product's range); the item page shows where the eggs come from
and the excursion; the lot is recalled from the portal and consumers see it; admins register users; auditors read
but never write.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest

from chaincode.supplychain.provenance.identifiers import check_digit
from tests.chaincode.epcis import COMPANY, commission, document, pack, sgtin, ship, sscc, temperature

pytestmark = pytest.mark.fabric

# Fresh references per run, so nothing depends on what an earlier run left on the ledger.
ITEM_REF = f"8{random.randrange(10_000, 100_000)}"
SERIAL_REF = f"9{random.randrange(100_000_000, 1_000_000_000)}"
LOT = f"BL{random.randrange(1000, 10_000)}"
BODY = ITEM_REF[0] + COMPANY + ITEM_REF[1:]
GTIN = BODY + check_digit(BODY)


def sscc_path(urn: str) -> str:
    """The Digital Link path of an SSCC URN (``urn:epc:id:sscc:<company>.<serial ref>``)."""
    company, ref = urn.rsplit(":", 1)[1].split(".")
    body = ref[0] + company + ref[1:]
    return f"/00/{body}{check_digit(body)}"


@dataclass(frozen=True)
class Shipment:
    """What the operator recorded: two eggs of one lot, packed into a case and shipped."""

    items: list[str]  # Digital Link paths, as the ledger names objects
    case: str
    lot: str
    captured: list[list[str]]  # the rows of the "Captured" table


@pytest.fixture(scope="module")
def operator(new_user):
    """A Producer operator and its password."""
    user, password = new_user("Producer", "operator")
    return user.username, password


@pytest.fixture(scope="module")
def shipment(portal, operator) -> Shipment:
    """The operator registers the product class and records commission, pack and ship as one document."""
    page = portal("Producer")
    page.sign_in(*operator)
    page.open("/portal/products")
    page.fill("gtin", GTIN)
    page.fill("name", "Free-range eggs, 6 (browser)")
    page.fill("temp_min", "1")
    page.fill("temp_max", "8")
    page.submit("register-product")
    assert page.flashes("success") == [f"registered Free-range eggs, 6 (browser) (GTIN {GTIN})"], page.flashes("error")

    eggs, case = [sgtin("1", ITEM_REF), sgtin("2", ITEM_REF)], sscc(SERIAL_REF)
    page.capture(document(commission(eggs, lot=LOT), pack(case, eggs), ship([case])))
    assert page.flashes("success") == ["captured 3 event(s) in one transaction"], page.flashes("error")
    rows = [[td.text for td in tr.find_elements("css selector", "td")] for tr in page.all("#captured tr")[1:]]
    page.sign_out()
    return Shipment([f"/01/{GTIN}/21/1", f"/01/{GTIN}/21/2"], sscc_path(case), f"/01/{GTIN}/10/{LOT}", rows)


def test_a_wrong_password_is_refused_and_the_right_one_signs_in_and_out(portal, operator):
    page = portal("Producer")
    page.open("/portal/")
    assert "/portal/login" in page.driver.current_url  # the portal needs a session
    username, password = operator
    page.sign_in(username, password + "-wrong")
    assert page.flashes("error") == ["wrong username or password"]
    assert page.signed_in_as is None

    page.sign_in(username, password)
    assert page.driver.current_url == page.url("/portal/")
    assert page.signed_in_as == username
    assert "ProducerMSP" in page.text("h1")
    assert "role operator" in page.text("main")

    page.sign_out()
    assert page.signed_in_as is None
    page.open("/portal/products")
    assert "/portal/login" in page.driver.current_url


def test_the_producer_registers_a_product_and_records_commission_pack_and_ship(shipment, portal, operator):
    assert [row[1:3] for row in shipment.captured] == [
        ["ObjectEvent", "commissioning"], ["AggregationEvent", "packing"], ["ObjectEvent", "shipping"]]  # fmt: skip
    assert set(shipment.items) <= set(shipment.captured[0][3].split())
    page = portal("Producer")
    page.sign_in(*operator)
    page.open("/portal/")  # the lookup box takes a scanned Digital Link URI
    page.fill("code", f"https://id.example.com{shipment.items[0]}")
    page.submit("find")
    assert page.text("#object-id") == shipment.items[0]
    assert page.text("#custodian") == "ProducerMSP (in transit)"
    assert [tr.find_elements("css selector", "td")[2].text for tr in page.all("#history tr")[1:]] == [
        "commissioning", "packing"]  # fmt: skip
    page.click(f"a[href='/portal/items{shipment.case}']")  # "inside": the case it was packed into
    assert page.text("#object-id") == shipment.case
    assert [tr.find_elements("css selector", "td")[2].text for tr in page.all("#history tr")[1:]] == [
        "packing", "shipping"]  # fmt: skip
    page.sign_out()


def test_a_refused_document_shows_the_error_and_records_nothing(shipment, portal, operator):
    page = portal("Producer")
    page.sign_in(*operator)
    new, unknown = sgtin("3", ITEM_REF), sgtin("404", ITEM_REF)
    page.capture(json.dumps([json.loads(commission([new], lot=LOT)), json.loads(ship([unknown]))]))
    [error] = page.flashes("error")
    assert error.startswith("NOT_FOUND: event 2 (ObjectEvent shipping)")
    assert error.endswith("was never commissioned (nothing was recorded)")
    assert not page.all("#captured")
    assert json.loads(page.find("textarea[name='document']").get_attribute("value"))[1]["epcList"] == [unknown]

    page.open(f"/portal/items/01/{GTIN}/21/3")  # the first event of the document was not kept either
    assert page.find("p.problem").get_attribute("data-code") == "NOT_FOUND"
    page.sign_out()


def test_the_item_page_shows_the_origin_and_marks_an_excursion(shipment, portal, operator):
    page = portal("Producer")
    page.sign_in(*operator)
    case = sscc(SERIAL_REF)
    page.capture(json.dumps([json.loads(temperature([case], 4.5, time="2026-01-05T10:00:00+01:00")),
                             json.loads(temperature([case], 12.5, time="2026-01-05T11:00:00+01:00"))]))  # fmt: skip
    assert page.flashes("success") == ["captured 2 event(s) in one transaction"], page.flashes("error")

    page.open("/portal/items" + shipment.items[0])
    nodes = {g.get_attribute("data-id") for g in page.all("#lineage svg g.node")}
    assert nodes == {shipment.items[0], shipment.lot}
    assert page.find("#lineage svg line").is_displayed()
    origins = page.text("#origins")
    assert shipment.lot in origins and "ex:farm: Hillside Farm" in origins and "layDate: 2026-01-05" in origins

    assert len(page.all("#readings-chart svg circle.reading")) == 1
    [excursion] = page.all("#readings-chart svg circle.excursion")
    assert excursion.is_displayed()
    assert page.text("#excursions").startswith("1 excursion(s) in 2 reading(s); allowed 1.0..8.0 °C")
    assert "Temperature value 12.5 outside 1.0..8.0" in page.text("p.excursion")
    page.sign_out()


def test_a_recall_from_the_portal_reaches_the_public_verify_page(shipment, portal, operator, browser):
    page = portal("Producer")
    page.sign_in(*operator)
    page.open("/portal/items" + shipment.lot)
    assert {g.get_attribute("data-id") for g in page.all("#downstream svg g.node")} >= set(shipment.items)
    page.fill("reason", "Salmonella found in a sample of the lot")
    page.submit("recall")
    [flash] = page.flashes("success")
    assert flash.startswith(f"recalled {shipment.lot}: 3 object(s) flagged")
    assert page.text("#object-id") == shipment.lot
    assert "Salmonella found in a sample of the lot" in page.text("#recalled")
    assert not page.all("#recall-form")  # a recalled lot offers no second recall

    page.open("/portal/items" + shipment.items[1])
    assert "Salmonella" in page.text("#recalled")
    qr = page.find("figure.qr img")
    page.wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", qr))
    status, content_type, svg = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])));",
        qr.get_attribute("src"))  # fmt: skip
    assert (status, content_type.split(";")[0]) == (200, "image/svg+xml") and "<svg" in svg
    assert page.url(shipment.items[1]) in svg  # the QR code holds the item's Digital Link URI
    page.sign_out()

    # A consumer: no session. The Digital Link on the pack resolves to the verification page.
    page.open(shipment.items[1])
    assert page.driver.current_url == page.url("/verify" + shipment.items[1])
    assert page.signed_in_as is None
    verdict = page.text("#verdict")
    assert verdict.startswith("RECALLED: Salmonella found in a sample of the lot (by ProducerMSP")
    assert "Hillside Farm" in page.text("table.facts")

    page.open(f"/verify/01/{GTIN}/21/999")
    assert page.text("#verdict") == "Not genuine: this identifier was never commissioned on the ledger"


def test_an_admin_registers_users_and_an_auditor_cannot_write(shipment, portal, admin_password):
    page = portal("Producer")
    page.sign_in("admin", admin_password("Producer"))
    page.open("/portal/users")
    username, password = f"auditor{random.randrange(10_000, 100_000)}", "auditor-password-1"
    page.fill("username", username)
    page.fill("password", password)
    page.choose("role", "auditor")
    page.submit("register-user")
    assert page.flashes("success") == [f"registered {username} with the CA as {username}@producer (role auditor)"]
    assert [username, "auditor", f"{username}@producer"] in [
        [td.text for td in tr.find_elements("css selector", "td")] for tr in page.all("#users tr")[1:]]  # fmt: skip
    page.sign_out()

    page.sign_in(username, password)
    assert page.signed_in_as == username
    assert "role auditor" in page.text("main")
    assert not page.all("header a[href='/portal/users']")  # only admins see the users page
    page.open("/portal/users")
    assert page.flashes("error") == ["only the organisation's admins manage users"]

    page.open("/portal/products")
    page.fill("gtin", "40614141999996")
    page.fill("name", "Not allowed")
    page.submit("register-product")
    assert page.flashes("error") == ["role auditor reads but does not write"]
    page.capture(commission([sgtin("77", ITEM_REF)], lot=LOT))
    assert page.flashes("error") == ["role auditor reads but does not write"]
    page.open("/portal/items" + shipment.items[0])  # reading is fine
    assert page.text("#object-id") == shipment.items[0]
    page.open("/portal/recall")
    page.fill("lot", shipment.lot)
    page.fill("reason", "An auditor tries to recall")
    page.submit("recall")
    assert page.flashes("error") == ["role auditor reads but does not write"]
    page.sign_out()


def test_one_browser_stays_signed_in_to_two_organisations(shipment, portal, operator, new_user):
    """Every gateway of a demo runs on the same host, so each needs its own session cookie."""
    retailer, password = new_user("Retailer", "operator")
    producer_page = portal("Producer")
    producer_page.sign_in(*operator)
    retailer_page = portal("Retailer", sign_out=False)
    retailer_page.open("/portal/")
    assert "/portal/login" in retailer_page.driver.current_url
    retailer_page.sign_in(retailer.username, password)
    assert "RetailerMSP" in retailer_page.text("h1")
    # Any member reads the whole ledger.
    retailer_page.open("/portal/items" + shipment.items[0])
    assert retailer_page.text("#custodian") == "ProducerMSP (in transit)"

    producer_page.open("/portal/")
    assert producer_page.signed_in_as == operator[0]
    retailer_page.open("/portal/")
    assert retailer_page.signed_in_as == retailer.username
    retailer_page.sign_out()
    producer_page.open("/portal/")
    assert producer_page.signed_in_as == operator[0]
    producer_page.sign_out()
