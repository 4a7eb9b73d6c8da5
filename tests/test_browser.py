"""
Real-browser tests: Playwright driving Debian's Chromium against a real server
with UPLOAD_DIR outside the project. Skipped, with the reason, where Chromium
or Playwright is missing; .ci/run installs Chromium so they run in CI.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.factories import make_image_bytes
from tests.processes import (
    PASSWORD,
    free_port,
    prepare_deployment,
    running_server,
    runserver_command,
)

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.servers

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"Debian's Chromium is not installed at {CHROMIUM} "
        "(apt-get install chromium; .ci/run does it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright is not installed (pip install -r requirements.txt)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """runserver on a loopback port, for the whole module."""
    root = tmp_path_factory.mktemp("browser")
    project, upload_dir, env = prepare_deployment(root)
    port = free_port()
    with running_server(
        runserver_command(project, port),
        port=port,
        env=env | {"DEBUG": "true"},
        cwd=root,
        log=root / "server.log",
    ) as base_url:
        yield base_url, upload_dir


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def csp_violations():
    """What Chromium's console says the page's policy blocked, for every page."""
    return []


@pytest.fixture
def page(browser, site, csp_violations):
    context = browser.new_context(base_url=site[0])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}")
            if is_csp_violation(message.text)
            else None
        ),
    )
    yield page
    context.close()
    # Every test in this module works under the policy, not only the one below.
    assert csp_violations == []


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "ada at the conference.jpg"
    path.write_bytes(make_image_bytes("JPEG", size=(300, 200), color="purple"))
    return path


def log_in(page, username: str, login_url: str = "/accounts/login/"):
    page.goto(login_url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def assert_image_loaded(image):
    sync_api.expect(image).to_have_attribute(
        "src", re.compile(r"^/static/uploads/photos/")
    )
    image.scroll_into_view_if_needed()
    loaded = image.evaluate("img => img.decode().then(() => img.naturalWidth)")
    assert loaded > 0


def test_staff_upload_a_photo_from_the_file_chooser_and_see_its_thumbnail(
    page, site, photo_file
):
    log_in(page, "mia")
    card = page.locator("article.card", has_text="Ada Lovelace")

    with page.expect_file_chooser() as chooser:
        card.locator("input[type=file]").click()
    chooser.value.set_files(photo_file)
    sync_api.expect(card.locator("[data-preview]")).to_be_visible()
    card.get_by_role("button", name="Upload").click()

    sync_api.expect(card.locator("[data-messages]")).to_have_text("Photo saved.")
    assert_image_loaded(card.locator("[data-photo] img"))
    sync_api.expect(card.locator(".card__file")).to_have_text(
        "Photo: ada at the conference.jpg"
    )
    src = card.locator("[data-photo] img").get_attribute("src")
    stem = re.fullmatch(
        r"/static/uploads/photos/thumbs/([0-9a-f]{32})-small\.webp", src
    )
    assert (site[1] / "photos" / f"{stem.group(1)}.jpg").is_file()
    page.goto("/webinar-demo/")
    assert_image_loaded(page.get_by_alt_text("Photo of Ada Lovelace"))


def test_staff_save_notes_twice_without_a_reload_and_see_a_conflict_to_merge(
    page, site
):
    log_in(page, "mia")
    card = page.locator("article.card", has_text="Ada Lovelace")
    notes = card.locator("textarea[name=notes]")
    messages = card.locator("[data-messages]")

    for text in ("First note.", "Second note."):
        notes.fill(text)
        card.get_by_role("button", name="Save notes").click()
        sync_api.expect(messages).to_have_text("Notes saved.")

    # Another editor saves meanwhile: this page's version is now stale.
    other = page.context.browser.new_page(base_url=site[0])
    log_in(other, "mia")
    other_card = other.locator("article.card", has_text="Ada Lovelace")
    other_card.locator("textarea[name=notes]").fill("Theirs.")
    other_card.get_by_role("button", name="Save notes").click()
    sync_api.expect(other_card.locator("[data-messages]")).to_have_text("Notes saved.")
    other.close()

    notes.fill("Mine.")
    card.get_by_role("button", name="Save notes").click()
    sync_api.expect(messages).to_contain_text("Someone else changed these notes")
    sync_api.expect(card.locator(".notes-form__theirs")).to_have_text("Theirs.")
    notes.fill("Theirs. Mine.")
    card.get_by_role("button", name="Save notes").click()
    sync_api.expect(messages).to_have_text("Notes saved.")
    sync_api.expect(card.locator(".notes-form__theirs")).to_have_count(0)


def test_staff_without_javascript_upload_through_the_plain_form(
    browser, site, tmp_path
):
    context = browser.new_context(base_url=site[0], java_script_enabled=False)
    page = context.new_page()
    photo = tmp_path / "plain.png"
    photo.write_bytes(make_image_bytes("PNG", color="orange"))
    try:
        log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
        card = page.locator("article.card", has_text="Ada Lovelace")
        card.locator("input[type=file]").set_input_files(photo)
        card.get_by_role("button", name="Upload").click()
        page.wait_for_load_state()

        assert page.url.endswith(
            "/webinar-registrants/?q=ada#registrant-"
            + card.get_attribute("data-registrant")
        )
        card = page.locator("article.card", has_text="Ada Lovelace")
        sync_api.expect(card.locator(".message--success")).to_have_text("Photo saved.")
        assert_image_loaded(card.locator("[data-photo] img"))
    finally:
        context.close()


def test_staff_upload_a_photo_through_the_admin(page, site, photo_file):
    log_in(page, "staff", "/admin/login/")
    page.goto("/admin/webinars/registrant/add/")
    page.select_option("#id_webinar", label="Uploads everywhere")
    page.fill("#id_name", "Grace Hopper")
    page.fill("#id_email", "grace@example.com")
    page.check("#id_is_public")
    page.set_input_files("#id_photo", photo_file)
    page.click("input[name=_save]")

    sync_api.expect(page.locator(".messagelist")).to_contain_text(
        "was added successfully"
    )
    assert_image_loaded(page.get_by_alt_text("Photo of Grace Hopper"))
    page.goto("/webinar-demo/")
    assert_image_loaded(page.get_by_alt_text("Photo of Grace Hopper"))


PUBLIC_PAGES = ["/", "/webinar-demo/", "/accounts/login/", "/admin/login/"]
STAFF_PAGES = [
    "/webinar-registrants/",
    "/webinar-registrants/?q=ada",
    "/photo-import/",
    "/admin/",
    "/admin/webinars/registrant/",
    "/admin/webinars/registrant/add/",
    "/admin/webinars/webinar/",
    "/admin/webinars/webinar/add/",
    "/admin/webinars/photoevent/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/group/",
    "/admin/axes/accessattempt/",
    "/admin/password_change/",
]
POLICY = (
    "default-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
)


def test_every_page_and_admin_form_loads_with_no_csp_violation(
    page, site, csp_violations
):
    for url in PUBLIC_PAGES:
        response = page.goto(url)
        assert response.status == 200, url
        for directive in POLICY:
            assert directive in response.headers["content-security-policy"], url
        assert "camera=()" in response.headers["permissions-policy"]
    log_in(page, "staff", "/admin/login/")
    for url in STAFF_PAGES:
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, url
    # The admin's own scripts run: the change form's calendar shortcuts and
    # the sidebar's filter.
    page.goto("/admin/webinars/registrant/")
    page.get_by_role("link", name="Ada Lovelace", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "/change/" in page.url
    page.fill("#id_registered_at_0", "")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    assert page.input_value("#id_registered_at_0") != ""
    page.fill("#nav-filter", "webinar")
    sync_api.expect(page.locator("#nav-sidebar")).to_contain_text("Webinars")

    assert csp_violations == []


def test_a_policy_violation_would_be_seen(page, site, csp_violations):
    # The check above can fail: an inline script is refused and reported.
    page.goto("/webinar-demo/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.title = 'inline ran'";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)

    assert page.title() != "inline ran"
    assert any("inline" in text for text in csp_violations)
    csp_violations.clear()  # expected here; the fixture checks the others
