"""A staff member's visit to a real server, with cookies, CSRF and multipart forms."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
import uuid

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class AdminSession:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.base_url + path, headers=headers or {})
        return self.opener.open(request, timeout=30)

    def text(self, path: str) -> str:
        with self.get(path) as response:
            return response.read().decode()

    def log_in(self, username: str, password: str) -> None:
        page = self.text("/admin/login/")
        self.post(
            "/admin/login/?next=/admin/", page, username=username, password=password
        )

    def post(self, path: str, page: str, files: dict | None = None, **fields) -> str:
        """Submit the form on page, as a browser would, and return the next page."""
        fields["csrfmiddlewaretoken"] = CSRF_FIELD.search(page).group(1)
        body, content_type = encode_multipart(fields, files or {})
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            headers={"Content-Type": content_type, "Referer": self.base_url + path},
        )
        with self.opener.open(request, timeout=60) as response:
            return response.read().decode()


def encode_multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """Encode fields and {name: (filename, bytes, type)} as multipart/form-data."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def raw_request(
    base_url: str, path: str, headers: dict | None = None, method: str = "GET"
) -> tuple[int, dict, bytes]:
    """Send a request for path exactly as written: no normalisation, no quoting."""
    netloc = urllib.parse.urlsplit(base_url).netloc
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        headers = headers or {}
        connection.putrequest(
            method, path, skip_host="Host" in headers, skip_accept_encoding=True
        )
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def upload_photo_through_the_admin(
    base_url: str, photo: bytes
) -> tuple[AdminSession, str]:
    """
    As the superuser "staff" (tests.processes.CREATE_DEMO_PEOPLE), add a
    registrant with photo in the admin; return the thumbnail URL it lists.
    """
    from tests.processes import PASSWORD

    session = AdminSession(base_url)
    session.log_in("staff", PASSWORD)
    form = session.text("/admin/webinars/registrant/add/")
    webinar_id = re.search(r'<option value="(\d+)">Uploads everywhere', form).group(1)
    changelist = session.post(
        "/admin/webinars/registrant/add/",
        form,
        files={"photo": ("grace hopper.jpg", photo, "image/jpeg")},
        webinar=webinar_id,
        name="Grace Hopper",
        email="grace@example.com",
        status="registered",
        group="marketing",
        registered_at_0="2026-11-27",
        registered_at_1="10:00:00",
    )
    thumbnail = re.search(
        r'<img src="(/static/uploads/photos/thumbs/[^"]+)"', changelist
    )
    assert thumbnail, changelist
    return session, thumbnail.group(1)


def post_photo(base_url: str, cookies: dict, registrant_id: str, photo: bytes):
    body, content_type = encode_multipart(
        {}, {"photo": ("photo.jpg", photo, "image/jpeg")}
    )
    connection = http.client.HTTPConnection(
        urllib.parse.urlsplit(base_url).netloc, timeout=120
    )
    try:
        connection.request(
            "POST",
            f"/upload-photo/{registrant_id}",
            body=body,
            headers={
                "Content-Type": content_type,
                "Accept": "application/json",
                "X-CSRFToken": cookies["csrftoken"],
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
