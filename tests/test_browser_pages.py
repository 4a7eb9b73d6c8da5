"""
The finished pages in Debian's Chromium, at a desktop width and a phone's:
the staff page's upload (limits, preview, drag and drop, paste), the gallery
(grouping, pagination, missing files), the favicon and the home page.
Screenshots are saved under pytest's tmp dir, as test artefacts.
"""

from __future__ import annotations

import os
import random
import re
import zipfile

import pytest

from tests.factories import make_image_bytes
from tests.processes import (
    free_port,
    manage,
    prepare_deployment,
    running_server,
    runserver_command,
)
from tests.test_browser import CHROMIUM, is_csp_violation, log_in

pytestmark = pytest.mark.servers

sync_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")

WIDTHS = {"desktop": 1280, "phone": 390}

# Fifty more public registrants over two webinars, for grouping and pages;
# two with photos, one of whose thumbnails then go missing.
MORE_PEOPLE = """
import datetime
import io
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from webinars import files, services
from webinars.models import Registrant, Webinar
from webinars.photos import prepare_photo
early = Webinar.objects.create(
    title="Photos at scale", starts_at=timezone.now() - datetime.timedelta(days=30)
)
later = Webinar.objects.get(title="Uploads everywhere")
for number in range(50):
    person = Registrant.objects.create(
        webinar=early if number % 2 else later,
        name=f"Person {number:02d} Example",
        email=f"person{number}@example.com",
        company="Example Co",
        is_public=True,
    )
    if number in (0, 2):
        buffer = io.BytesIO()
        Image.new("RGB", (300, 200), "green").save(buffer, "JPEG")
        upload = SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")
        services.registrant_photo_set(registrant=person, photo=prepare_photo(upload))
    if number == 2:
        for size in files.THUMBNAIL_EDGES:
            files.delete_quietly(files.thumbnail_name(person.photo.name, size))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """runserver on a loopback port with twenty public registrants."""
    root = tmp_path_factory.mktemp("pages")
    project, upload_dir, env = prepare_deployment(root)
    result = manage(project, "shell", "--no-imports", "-c", MORE_PEOPLE, env=env)
    assert result.returncode == 0, result.stderr
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
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture(params=sorted(WIDTHS))
def page(request, browser, site, tmp_path):
    """A page at each width; fails on any console error or CSP violation."""
    context = browser.new_context(
        base_url=site[0], viewport={"width": WIDTHS[request.param], "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = []

    def console(message):
        # The refused uploads of these tests answer 4xx on purpose.
        expected = "status of 4" in message.text
        if (message.type == "error" or is_csp_violation(message.text)) and not expected:
            problems.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    yield page
    page.screenshot(path=tmp_path / f"{request.param}.png", full_page=True)
    context.close()
    assert problems == []


def card_of(page, name: str):
    return page.locator("article.card", has_text=name)


def messages_of(card):
    return card.locator("[data-messages]")


def jpeg(tmp_path, name="ada.jpg", color="purple", size=(300, 200)):
    path = tmp_path / name
    path.write_bytes(make_image_bytes("JPEG", size=size, color=color))
    return path


def test_the_upload_rule_is_shown_next_to_the_file_input(page):
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
    card = card_of(page, "Ada Lovelace")
    rule = card.locator(".photo-form__rule")
    sync_api.expect(rule).to_contain_text(
        "JPEG, PNG, WebP, GIF, HEIC or AVIF, up to 5 MB"
    )
    file_input = card.get_by_label("Add a photo")
    assert file_input.get_attribute("aria-describedby") == rule.get_attribute("id")
    assert "image/heic" in file_input.get_attribute("accept")


def test_a_too_large_file_is_refused_before_sending_with_the_servers_sentence(
    page, tmp_path
):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + os.urandom(6 * 1024 * 1024))
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
    card = card_of(page, "Ada Lovelace")
    sent = []
    page.on(
        "request", lambda r: sent.append(r.url) if "upload-photo" in r.url else None
    )

    card.locator("input[type=file]").set_input_files(big)
    expected = "Photos can be at most 5 MB; this file is 6.0 MB."
    sync_api.expect(messages_of(card)).to_have_text(expected)
    sync_api.expect(card.locator("[data-preview]")).to_be_hidden()
    card.get_by_role("button", name="Upload").click()
    sync_api.expect(messages_of(card)).to_have_text(expected)
    assert sent == []

    # With the browser's check bypassed, the server's own sentence (a 413).
    card.locator("[data-photo-form]").evaluate("f => f.dataset.maxBytes = 1e12")
    with page.expect_response(lambda r: "upload-photo" in r.url) as response:
        card.get_by_role("button", name="Upload").click()
    assert response.value.status == 413
    sync_api.expect(messages_of(card)).to_have_text(expected)


def test_a_non_image_gives_no_broken_preview_and_the_server_names_it(page, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("These are not pixels.\n" * 20)
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
    card = card_of(page, "Ada Lovelace")

    card.locator("input[type=file]").set_input_files(fake)
    sync_api.expect(messages_of(card)).to_contain_text("cannot show a preview")
    sync_api.expect(card.locator("[data-preview]")).to_be_hidden()
    card.get_by_role("button", name="Upload").click()
    sync_api.expect(messages_of(card)).to_have_text(
        "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is text."
    )
    text = tmp_path / "notes.txt"
    text.write_text("plain")
    card.locator("input[type=file]").set_input_files(text)
    sync_api.expect(messages_of(card)).to_have_text(
        "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is text."
    )


DROP = """([selector, bytes, name, kind]) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
    const target = document.querySelector(selector);
    if (kind === "paste") {
        target.focus();
        target.dispatchEvent(new ClipboardEvent("paste", {
            clipboardData: transfer, bubbles: true, cancelable: true,
        }));
    } else {
        for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, {
                dataTransfer: transfer, bubbles: true, cancelable: true,
            }));
        }
    }
}"""


def upload_by(page, kind: str, color: str):
    card = card_of(page, "Ada Lovelace")
    selector = f"#{card.get_attribute('id')}"
    target = f"{selector} button[type=submit]" if kind == "paste" else selector
    data = list(make_image_bytes("PNG", size=(64, 64), color=color))
    page.evaluate(DROP, [target, data, f"{kind}.png", kind])
    sync_api.expect(card.locator("[data-preview]")).to_be_visible()
    sync_api.expect(card.get_by_role("button", name="Upload")).to_be_focused()
    card.get_by_role("button", name="Upload").click()
    sync_api.expect(messages_of(card)).to_have_text("Photo saved.")
    sync_api.expect(messages_of(card)).to_be_focused()
    sync_api.expect(card.locator(".card__file")).to_have_text(f"Photo: {kind}.png")


def test_drop_a_photo_on_a_card_then_paste_another_and_the_label_follows(page):
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
    card = card_of(page, "Ada Lovelace")
    if card.locator("[data-photo] img").count():  # the other width's run
        card.locator("[data-delete] summary").click()
        card.get_by_role("button", name="Yes, delete the photo").click()
        sync_api.expect(messages_of(card)).to_have_text("Photo deleted.")
    sync_api.expect(card.locator("[data-photo-label]")).to_have_text("Add a photo")

    upload_by(page, "drop", "red")
    sync_api.expect(card.locator("[data-photo-label]")).to_have_text("Replace photo")
    sync_api.expect(card.locator("[data-delete]")).to_be_visible()
    upload_by(page, "paste", "blue")
    thumbnail = card.locator("[data-photo] img")
    thumbnail.evaluate("img => img.decode()")
    pixel = thumbnail.evaluate(
        """img => {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 1;
            const context = canvas.getContext("2d");
            context.drawImage(img, img.naturalWidth / 2, img.naturalHeight / 2,
                              1, 1, 0, 0, 1, 1);
            return Array.from(context.getImageData(0, 0, 1, 1).data);
        }"""
    )
    assert pixel[2] > 200 and pixel[0] < 50  # the pasted blue, not the red

    card.locator("[data-delete] summary").click()
    card.get_by_role("button", name="Yes, delete the photo").click()
    sync_api.expect(messages_of(card)).to_have_text("Photo deleted.")
    sync_api.expect(card.locator("[data-photo-label]")).to_have_text("Add a photo")
    sync_api.expect(card.locator("[data-delete]")).to_be_hidden()


def test_the_gallery_is_grouped_by_webinar_and_paginated(page):
    page.goto("/webinar-demo/")
    groups = page.locator(".gallery-group")
    sync_api.expect(groups).to_have_count(2)
    sync_api.expect(groups.nth(0).locator("h2")).to_have_text("Uploads everywhere")
    sync_api.expect(groups.nth(1).locator("h2")).to_have_text("Photos at scale")
    assert groups.nth(1).locator("time").get_attribute("datetime")
    sync_api.expect(page.locator(".gallery__item")).to_have_count(48)
    sync_api.expect(page.locator(".lead")).to_contain_text("51 attendees")

    page.get_by_role("link", name="Next").click()
    sync_api.expect(page).to_have_url("/webinar-demo/?page=2")
    sync_api.expect(page.locator(".gallery__item")).to_have_count(3)
    sync_api.expect(page.locator(".gallery-group h2")).to_have_text(["Photos at scale"])
    sync_api.expect(page.locator(".pagination")).to_contain_text("Page 2 of 2")
    page.get_by_role("link", name="Previous").click()
    sync_api.expect(page).to_have_url("/webinar-demo/?page=1")


def test_gallery_rows_align_and_phones_get_two_columns(page):
    page.goto("/webinar-demo/")
    items = page.locator(".gallery-group").first.locator(".gallery__item")
    boxes = [items.nth(n).bounding_box() for n in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"], "two or more columns at every width"
    names = [items.nth(n).locator(".gallery__name").bounding_box() for n in range(2)]
    # Ada has initials, Person 00 a photo: their names are on one line.
    assert names[0]["y"] == names[1]["y"]
    photo = items.nth(1).locator("img")
    assert photo.get_attribute("loading") == "lazy"
    assert "128w" in photo.get_attribute("srcset")
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "no horizontal scrolling"


def test_a_missing_photo_file_shows_the_initials(page):
    page.goto("/webinar-demo/")
    item = page.locator(".gallery__item", has_text="Person 02 Example")
    item.scroll_into_view_if_needed()
    sync_api.expect(item.locator("img")).to_have_count(0)
    initials = item.locator(".portrait__initials")
    sync_api.expect(initials).to_have_text("P0")
    sync_api.expect(initials).to_be_visible()


CENTRE_PIXEL = """img => img.decode().then(() => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    canvas.getContext("2d").drawImage(
        img, img.naturalWidth / 2, img.naturalHeight / 2, 1, 1, 0, 0, 1, 1);
    return Array.from(canvas.getContext("2d").getImageData(0, 0, 1, 1).data);
})"""


def test_choose_the_crop_and_the_thumbnail_changes(page, tmp_path):
    wide = Image.new("RGB", (400, 200), "red")
    wide.paste(Image.new("RGB", (200, 200), "blue"), (200, 0))
    wide.save(tmp_path / "wide.png")
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada")
    card = card_of(page, "Ada Lovelace")
    card.locator("input[type=file]").set_input_files(tmp_path / "wide.png")
    card.get_by_role("button", name="Upload").click()
    sync_api.expect(messages_of(card)).to_have_text("Photo saved.")
    thumbnail = card.locator("[data-photo] img")
    centred = thumbnail.get_attribute("src")

    card.get_by_text("Choose the crop").click()
    frame = card.locator("[data-crop-frame]")
    frame.locator("img").evaluate("img => img.decode()")
    box = frame.bounding_box()
    frame.click(position={"x": 2, "y": box["height"] / 2})
    sync_api.expect(card.locator("[data-crop-x]")).to_have_value("0.01")
    card.get_by_role("button", name="Save crop").click()
    sync_api.expect(messages_of(card)).to_have_text("Crop saved.")
    sync_api.expect(thumbnail).not_to_have_attribute("src", centred)
    red = thumbnail.evaluate(CENTRE_PIXEL)
    assert red[0] > 200 and red[2] < 60, red

    frame.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    sync_api.expect(card.locator("[data-crop-x]")).to_have_value("1.00")
    card.get_by_role("button", name="Save crop").click()
    sync_api.expect(thumbnail).to_have_attribute("src", re.compile(r"crop=1\.000"))
    blue = thumbnail.evaluate(CENTRE_PIXEL)
    assert blue[2] > 200 and blue[0] < 60, blue


def test_the_home_page_says_what_the_app_is_and_the_favicon_is_served(page):
    response = page.goto("/")
    assert response.status == 200
    sync_api.expect(page.locator("h1")).to_have_text("FastOpp webinars")
    sync_api.expect(page.locator(".lead")).to_contain_text("registrants")
    page.get_by_role("link", name="See the attendee gallery").click()
    sync_api.expect(page).to_have_url("/webinar-demo/")
    page.goto("/")
    page.get_by_role("link", name="Staff log in").click()
    sync_api.expect(page.locator("input[name=username]")).to_be_visible()

    # Fetched, not opened: Chromium's own image viewer would break the policy.
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200
    assert icon.url.endswith(".ico") and icon.body()[:4] == b"\x00\x00\x01\x00"
    linked = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(linked).status == 200


def test_the_compact_list_shows_a_row_a_registrant_with_its_actions(page, tmp_path):
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/")
    page.get_by_role("link", name="Compact list").click()
    rows = page.locator("tr.list-row")
    sync_api.expect(rows).to_have_count(12)
    page.fill("input[name=q]", "ada")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tr.list-row", has_text="Ada Lovelace")
    sync_api.expect(row).to_contain_text("Uploads everywhere")
    sync_api.expect(row.locator(".badge")).to_have_text("Registered")

    row.locator("input[type=file]").set_input_files(jpeg(tmp_path, color="orange"))
    row.get_by_role("button", name="Upload").click()
    sync_api.expect(row.locator("[data-messages]")).to_have_text("Photo saved.")
    sync_api.expect(row.locator("[data-photo] img")).to_be_visible()
    sync_api.expect(row.locator("[data-photo-label]")).to_have_text("Replace photo")

    page.goto("/webinar-registrants/")  # remembered
    sync_api.expect(page.locator("tr.list-row")).to_have_count(12)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "no horizontal scrolling"
    page.get_by_role("link", name="Cards").click()
    sync_api.expect(page.locator("article.card")).to_have_count(12)


def test_the_admin_previews_the_chosen_photo_and_sets_the_crop_by_a_click(
    page, tmp_path
):
    log_in(page, "staff", "/admin/login/")
    page.goto("/admin/webinars/registrant/")
    width = page.evaluate("document.documentElement.scrollWidth")
    if page.viewport_size["width"] >= 1280:
        assert width <= 1280, "the registrant list fits 1280 px"
    page.get_by_role("link", name="Ada Lovelace", exact=True).click()
    page.wait_for_load_state("load")  # the widget's script listens from then on
    preview = page.locator("[data-photo-input-preview]")

    fake = tmp_path / "fake.jpg"
    fake.write_text("not pixels " * 50)
    page.set_input_files("#id_photo", fake)
    sync_api.expect(page.locator("[data-photo-input-message]")).to_contain_text(
        "cannot show a preview"
    )
    sync_api.expect(preview).to_be_hidden()
    page.set_input_files("#id_photo", jpeg(tmp_path, size=(400, 200)))
    sync_api.expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth") == 400
    page.click("input[name=_continue]")
    sync_api.expect(page.locator(".messagelist")).to_contain_text("was changed")

    stored = page.locator("[data-crop-source]")
    stored.evaluate("img => img.decode()")
    sync_api.expect(page.get_by_alt_text("Its small thumbnail")).to_be_visible()
    sync_api.expect(page.get_by_label("Remove photo")).to_be_visible()
    box = stored.bounding_box()
    stored.click(position={"x": box["width"] - 1, "y": box["height"] / 2})
    assert float(page.input_value("#id_photo_focus_x")) > 0.95
    page.click("input[name=_continue]")
    sync_api.expect(page.locator(".messagelist")).to_contain_text("was changed")
    small = page.get_by_alt_text("Its small thumbnail").get_attribute("src")
    assert "crop=" in small


def test_import_a_zip_of_photos_through_the_preview(page, tmp_path):
    archive = tmp_path / "event.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("person40@example.com.jpg", make_image_bytes("JPEG"))
        bundle.writestr("person42@example.com.jpg", make_image_bytes("JPEG"))
        bundle.writestr("nobody@example.com.jpg", make_image_bytes("JPEG"))
        bundle.writestr("person44@example.com.jpg", b"text, not a photo\n" * 9)
    log_in(page, "mia", "/accounts/login/?next=/webinar-registrants/")
    page.get_by_role("link", name="Import many photos at once").click()
    page.set_input_files("input[name=photos]", archive)
    page.get_by_role("button", name="Preview the import").click()

    rows = page.locator("tr.import-row")
    sync_api.expect(rows).to_have_count(4)
    sync_api.expect(page.locator("tr[data-status=matched]")).to_have_count(2)
    sync_api.expect(page.locator("tr[data-status=unmatched]")).to_contain_text(
        "No registrant you may change"
    )
    sync_api.expect(page.locator("tr[data-status=refused]")).to_contain_text(
        "this file is text."
    )
    page.get_by_label(
        "Save person42@example.com.jpg as Person 42 Example's photo"
    ).uncheck()
    page.get_by_role("button", name="Save the ticked photos").click()

    sync_api.expect(page.locator(".import-summary")).to_contain_text("1 photo saved")
    sync_api.expect(page.locator(".import-summary")).to_contain_text(
        "person40@example.com.jpg → Person 40 Example"
    )


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_an_import_saves_row_by_row_with_progress_then_the_summary(page, tmp_path):
    archive = tmp_path / "photographer.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for number in (30, 32, 34, 36):
            bundle.writestr(f"person{number}@example.com.jpg", make_image_bytes("JPEG"))
        bundle.writestr("again/person30@example.com.png", make_image_bytes("PNG"))
        bundle.writestr("stranger@example.com.jpg", make_image_bytes("JPEG"))
        bundle.writestr("person38@example.com.jpg", b"a letter, not a photo\n" * 9)
    rows_sent = []
    page.on(
        "request",
        lambda r: rows_sent.append(r.post_data) if "apply-row" in r.url else None,
    )
    log_in(page, "mia", "/accounts/login/?next=/photo-import/")
    page.set_input_files("input[name=photos]", archive)
    page.get_by_role("button", name="Preview the import").click()
    sync_api.expect(page.locator("tr[data-status=matched]")).to_have_count(4)
    sync_api.expect(page.locator("tr[data-status=duplicate]")).to_have_count(1)
    sync_api.expect(page.locator("tr[data-status=unmatched]")).to_have_count(1)
    sync_api.expect(page.locator("tr[data-status=refused]")).to_have_count(1)
    # A tampered form: the duplicate ticked too, which the server refuses.
    page.locator("tr[data-status=duplicate] td").first.evaluate(
        "cell => cell.innerHTML = '<input type=checkbox name=confirm value=4 checked>'"
    )
    # Every value the bar and the count take, as the page shows them.
    page.evaluate("""() => {
        window.seen = [];
        const count = document.querySelector("[data-import-count]");
        const bar = document.querySelector("[data-import-progress] progress");
        new MutationObserver(() => window.seen.push([bar.value, bar.max,
            count.textContent])).observe(count, {childList: true});
    }""")

    page.get_by_role("button", name="Save the ticked photos").click()

    summary = page.locator(".import-summary")
    sync_api.expect(summary).to_contain_text("4 photos saved, 1 not saved.")
    for number in (30, 32, 34, 36):
        sync_api.expect(summary).to_contain_text(
            f"person{number}@example.com.jpg → Person {number} Example"
        )
    sync_api.expect(summary.locator(".message--error")).to_have_text(
        "person30@example.com.png: person30@example.com.jpg is also for "
        "Person 30 Example; only the first file is used."
    )
    seen = page.evaluate("window.seen")
    assert [text for _, _, text in seen] == [
        *(f"{done} of 5 applied" for done in range(5)),
        "4 of 5 applied, 1 refused",
    ]
    assert seen[-1][:2] == [5, 5], "the bar reaches the total"
    assert len(rows_sent) == 5, "one request a registrant"
    sync_api.expect(page.get_by_role("heading", name="Done")).to_be_focused()


def noisy_jpeg(path, megabytes=4.0):
    """A valid JPEG of about megabytes: noise does not compress."""
    noise = random.Random(15)
    width, height = 2200, 1650
    Image.frombytes("RGB", (width, height), noise.randbytes(width * height * 3)).save(
        path, "JPEG", quality=95
    )
    assert abs(path.stat().st_size / 2**20 - megabytes) < 0.5
    return path


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_admin_shows_a_large_uploads_progress_then_the_list_and_message(
    page, tmp_path
):
    large = noisy_jpeg(tmp_path / "large.jpg")
    sent = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.headers.get("x-photo-upload"))
            if r.method == "POST" and "/change/" in r.url
            else None
        ),
    )
    log_in(page, "staff", "/admin/login/")
    page.goto("/admin/webinars/registrant/?q=person10%40example.com")
    page.get_by_role("link", name="Person 10 Example", exact=True).click()
    page.wait_for_load_state("load")  # the widget's script listens from then on
    upload = page.locator("[data-photo-input-upload]")
    sync_api.expect(upload).to_be_hidden()
    # What the upload's box shows, kept across the navigation that follows.
    upload.evaluate("""box => new MutationObserver(() => {
        const seen = JSON.parse(sessionStorage.seen || "[]");
        seen.push([box.hidden, box.querySelector("progress").value]);
        sessionStorage.seen = JSON.stringify(seen);
    }).observe(box, {attributes: true, subtree: true, childList: true})""")
    page.set_input_files("#id_photo", large)
    sync_api.expect(page.locator("[data-photo-input-preview]")).to_be_visible()

    page.click("input[name=_save]")

    # The change list, with the search it was opened from.
    sync_api.expect(page).to_have_url(
        re.compile(r"/admin/webinars/registrant/\?q=person10%40example.com$")
    )
    sync_api.expect(page.locator(".messagelist")).to_contain_text(
        "was changed successfully"
    )
    seen = page.evaluate("JSON.parse(sessionStorage.seen)")
    assert [False, 100] in seen, seen
    assert seen[-1] == [False, 100], "it reached 100 % before the page changed"
    assert sent == ["progress"], "the script sent the form, once"
    sync_api.expect(page.get_by_alt_text("Photo of Person 10 Example")).to_be_visible()


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_a_refused_admin_upload_shows_the_form_with_the_servers_sentence(
    page, tmp_path
):
    fake = tmp_path / "letter.jpg"
    fake.write_text("Dear staff, this is not a photo.\n" * 40)
    log_in(page, "staff", "/admin/login/")
    page.goto("/admin/webinars/registrant/?q=person12%40example.com")
    page.get_by_role("link", name="Person 12 Example", exact=True).click()
    page.wait_for_load_state("load")
    page.fill("#id_company", "Changed Co")
    page.set_input_files("#id_photo", fake)

    with page.expect_response(lambda r: "/change/" in r.url) as response:
        page.click("input[name=_continue]")

    assert response.value.status == 400
    sync_api.expect(page.locator(".errorlist")).to_contain_text(
        "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is text."
    )
    sync_api.expect(page.locator("#id_company")).to_have_value("Changed Co")
    # The page's own scripts run again: a new choice is previewed.
    page.set_input_files("#id_photo", jpeg(tmp_path))
    sync_api.expect(page.locator("[data-photo-input-preview]")).to_be_visible()
