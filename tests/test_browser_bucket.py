"""
The gallery and staff page in Chromium with photos in an S3 bucket (moto):
the photos load through the 302 to the bucket under the page's
Content-Security-Policy. Skipped where Chromium or Playwright is missing.
"""

from __future__ import annotations

import pytest

from tests.browserless import upload_photo_through_the_admin
from tests.factories import make_image_bytes
from tests.processes import (
    PASSWORD,
    free_port,
    prepare_deployment,
    running_server,
    runserver_command,
)
from tests.s3 import MotoServer, environment

# Skips, saying why, where Chromium or Playwright is missing.
from tests.test_browser import CHROMIUM, sync_api

pytestmark = pytest.mark.servers


def test_photos_redirected_to_the_bucket_load_under_the_page_policy(tmp_path):
    s3 = MotoServer(tmp_path)
    s3.start()
    try:
        bucket = s3.create_bucket("browser-photos")
        project, _, env = prepare_deployment(tmp_path)
        env |= environment(s3, bucket) | {"DEBUG": "true"}
        port = free_port()
        with running_server(
            runserver_command(project, port),
            port=port,
            env=env,
            cwd=tmp_path,
            log=tmp_path / "server.log",
        ) as base_url:
            _, thumbnail = upload_photo_through_the_admin(
                base_url, make_image_bytes("JPEG", size=(300, 200), color="navy")
            )
            violations = []
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True
                )
                page = browser.new_page(base_url=base_url)
                page.on(
                    "console",
                    lambda message: (
                        violations.append(message.text)
                        if "Content Security Policy" in message.text
                        else None
                    ),
                )
                page.goto("/accounts/login/")
                page.fill("input[name=username]", "staff")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.goto("/webinar-registrants/")
                uuid = thumbnail.rsplit("/", 1)[1][:32]
                image = page.locator(f'img[src*="{uuid}"]').first
                image.scroll_into_view_if_needed()
                width = image.evaluate(
                    "img => img.decode().then(() => img.naturalWidth)"
                )
                browser.close()
    finally:
        s3.stop()

    assert width in (128, 384)  # the small or the medium thumbnail
    assert violations == []
