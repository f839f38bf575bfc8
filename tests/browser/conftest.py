"""Browser fixtures: a real headless Chromium driving the four gateway processes on the session's real network.

Chromium and chromedriver are Debian's (``make test`` installs them). A browser that cannot start fails the
tests; nothing is skipped. Waits are explicit (``WebDriverWait``): a form that submits a transaction returns only
after the organisation's peer has committed it.
"""

from __future__ import annotations

import json

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

# The gateway fixtures live with the gateway tests; the browser drives the same live processes.

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 60  # seconds: a submit waits for endorsement, ordering and commit on the real network


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    # Every request the browser sends is in the performance log, so a test can see what left the browser.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


class Portal:
    """What a person does in the portal of one organisation's gateway, with explicit waits."""

    def __init__(self, driver, gateway):
        self.driver, self.gateway = driver, gateway
        self.wait = WebDriverWait(driver, WAIT)
        # While the browser navigates, chromedriver may answer a command about the old page with an "unknown error"
        # (no JavaScript context): waits for a navigation to end retry such answers.
        self.navigation = WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,))

    def url(self, path: str) -> str:
        return self.gateway.url + path

    def loaded(self) -> None:
        """Wait until the page has loaded."""
        self.navigation.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def open(self, path: str) -> None:
        self.driver.get(self.url(path))
        self.loaded()

    def find(self, css: str):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text(self, css: str) -> str:
        return self.find(css).text

    def all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def fill(self, name: str, value: str) -> None:
        field = self.find(f"[name='{name}']")
        if field.tag_name == "textarea" and len(value) > 200:  # typing a whole EPCIS document key by key is slow
            self.driver.execute_script("arguments[0].value = arguments[1];", field, value)
        else:
            field.clear()
            field.send_keys(value)

    def choose(self, name: str, value: str) -> None:
        Select(self.find(f"select[name='{name}']")).select_by_value(value)

    def click(self, css: str) -> None:
        """Click a link or submit button and wait until the next page has loaded."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.find(css).click()
        self.navigation.until(EC.staleness_of(page))
        self.loaded()

    def submit(self, button_id: str) -> None:
        self.click(f"#{button_id}")

    def flashes(self, category: str) -> list[str]:
        return [p.text for p in self.all(f"p.flash.{category}")]

    def sign_in(self, username: str, password: str) -> None:
        self.open("/portal/login")
        self.fill("username", username)
        self.fill("password", password)
        self.submit("sign-in")

    def sign_out(self) -> None:
        self.submit("logout")
        self.wait.until(EC.url_contains("/portal/login"))

    @property
    def signed_in_as(self) -> str | None:
        """The username on the sign-out button, or None when nobody is signed in."""
        buttons = self.all("#logout")
        return buttons[0].text.removeprefix("Sign out ").strip() if buttons else None

    def capture(self, document: str) -> None:
        """Paste an EPCIS document into the events page and capture it."""
        self.open("/portal/events")
        self.fill("document", document)
        self.submit("capture")


def posted(driver) -> list[tuple[str, str]]:
    """(URL, body) of every POST the browser sent since the last call (from Chromium's performance log)."""
    sent = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent" and message["params"]["request"]["method"] == "POST":
            request = message["params"]["request"]
            sent.append((request["url"], request.get("postData", "")))
    return sent


@pytest.fixture(scope="session")
def portal(browser, live_gateways):
    """``portal(org)``: the browser on that organisation's portal, signed out of every portal to begin with.

    The gateways share a host, so cookies are shared too: ``sign_out=False`` keeps the other portals' sessions.
    """

    def at(org: str = "Producer", sign_out: bool = True) -> Portal:
        page = Portal(browser, live_gateways[org])
        page.open("/portal/login")
        if sign_out:
            browser.delete_all_cookies()
        return page

    return at


@pytest.fixture(scope="session")
def admin_password(live_gateways):
    """``admin_password(org)``: the password of the organisation's first ``admin`` user (made by the launcher)."""
    return lambda org="Producer": live_gateways[org].admin_password_file.read_text().strip()
