"""Signing with a key that never leaves the browser, in headless Chromium against the gateways and real peers.

The key is made by WebCrypto as non-extractable and kept in IndexedDB; the organisation's CA certifies it; the
browser signs the proposals and transactions the gateway builds. What the browser sends is read from Chromium's
own network log: public keys and signatures, never a private key.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.app.story import Story
from tests.app.webcrypto import creator_of
from tests.browser.conftest import posted

pytestmark = pytest.mark.fabric

ALLOWED_FIELDS = {"publicKey", "signature", "label", "keyId", "transaction", "parameters"}


def signing_status(page, form: str) -> tuple[str, str]:
    """Wait until the form's signing ends; (success|error, text)."""
    css = f"#{form} .signing-status"
    page.wait.until(lambda d: {"success", "error"} & set(page.find(css).get_attribute("class").split()))
    element = page.find(css)
    return ("success" if "success" in element.get_attribute("class") else "error"), element.text


def key_record(page, enrollment_id: str) -> dict:
    """What this browser's IndexedDB holds for the user, as far as a page script can see it."""
    return page.driver.execute_async_script(
        """
        const [enrollmentId, done] = arguments;
        SupplyChainSigning.loadKey(enrollmentId).then(async (record) => {
          if (!record) return done(null);
          let exported = "exported";
          try { await crypto.subtle.exportKey("pkcs8", record.keyPair.privateKey); }
          catch (error) { exported = error.name; }
          done({keyId: record.keyId, extractable: record.keyPair.privateKey.extractable,
                type: record.keyPair.privateKey.type, algorithm: record.keyPair.privateKey.algorithm,
                usages: record.keyPair.privateKey.usages, exportPkcs8: exported, certificate: record.certificate});
        }, (error) => done({error: String(error)}));
        """,
        enrollment_id,
    )


@pytest.fixture(scope="module")
def signer(portal, new_user):
    """A Producer operator whose browser has made and certified its key: (user, password, record)."""
    user, password = new_user("Producer", "operator")
    page = portal("Producer")
    page.sign_in(user.username, password)
    page.driver.get_log("performance")  # start the network log here
    page.open("/portal/keys")
    page.wait.until(lambda d: "no signing key" in page.text("#browser-key-state"))
    page.click("#create-key")  # the page reloads once the CA has certified the key
    page.wait.until(lambda d: page.find("#browser-key-state").get_attribute("data-key-id"))
    record = key_record(page, user.enrollment_id)
    sent = posted(page.driver)
    page.sign_out()
    return user, password, record, sent


def test_the_browser_key_is_non_extractable_and_certified_for_the_user(signer, portal):
    user, password, record, _ = signer
    assert record["extractable"] is False and record["type"] == "private"
    assert record["algorithm"] == {"name": "ECDSA", "namedCurve": "P-256"} and record["usages"] == ["sign"]
    assert record["exportPkcs8"] == "InvalidAccessError"
    certificate = x509.load_pem_x509_certificate(record["certificate"].encode())
    assert certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == user.enrollment_id
    page = portal("Producer")
    page.sign_in(user.username, password)
    page.open("/portal/keys")
    assert [tr.get_attribute("data-key-id") for tr in page.all("#keys tr[data-key-id]")] == [record["keyId"]]
    assert page.find("#browser-key-state").get_attribute("data-key-id") == record["keyId"]
    assert "extractable: false" in page.text("#browser-key-state")
    assert not page.all("#create-key:not([hidden])")
    page.sign_out()


def test_only_the_public_key_and_signatures_leave_the_browser(signer):
    _, _, record, sent = signer
    calls = [(url.split("/portal", 1)[1], json.loads(body)) for url, body in sent if "/portal/signing/" in url]
    assert [path for path, _ in calls] == ["/signing/keys/request-info", "/signing/keys"]
    for _, body in calls:
        assert set(body) <= ALLOWED_FIELDS
    spki = base64.b64decode(calls[1][1]["publicKey"])
    public = serialization.load_der_public_key(spki)
    certified = x509.load_pem_x509_certificate(record["certificate"].encode()).public_key()
    assert public.public_numbers() == certified.public_numbers()
    assert len(base64.b64decode(calls[1][1]["signature"])) == 64  # P1363 r||s, as WebCrypto signs
    assert not any("PRIVATE KEY" in body or '"d"' in body for _, body in sent)


def test_a_product_registered_with_the_browser_key_is_created_by_its_certificate(signer, portal, gateway_for):
    user, password, record, _ = signer
    page = portal("Producer")
    page.sign_in(user.username, password)
    page.driver.get_log("performance")
    page.open("/portal/products")
    story = Story()
    page.fill("gtin", story.gtin)
    page.fill("name", "Eggs signed in the browser")
    page.fill("temp_min", "1")
    page.fill("temp_max", "8")
    page.find("#register-product-browser").click()
    kind, text = signing_status(page, "product-browser-form")
    assert kind == "success", text
    assert text.startswith("committed in block ")
    transaction_id = page.find("#product-browser-form").get_attribute("data-committed")
    assert creator_of(gateway_for, transaction_id) == x509.load_pem_x509_certificate(record["certificate"].encode())
    signing_calls = [json.loads(body) for url, body in posted(page.driver) if "/portal/signing/" in url]
    assert len(signing_calls) == 3 and all(set(body) <= ALLOWED_FIELDS for body in signing_calls)

    page.find("#register-product-browser").click()  # the same GTIN again: the chaincode refuses, the page says why
    kind, text = signing_status(page, "product-browser-form")
    assert (kind, text) == ("error", f"CONFLICT: GTIN {story.gtin} is already registered")
    page.sign_out()


def test_without_a_key_the_page_says_to_create_one(portal, new_user):
    user, password = new_user("Producer", "operator")
    page = portal("Producer")
    page.sign_in(user.username, password)
    page.open("/portal/products")
    page.fill("gtin", Story().gtin)
    page.fill("name", "No key yet")
    page.find("#register-product-browser").click()
    kind, text = signing_status(page, "product-browser-form")
    assert kind == "error" and text.startswith("this browser has no signing key yet")
    page.sign_out()
