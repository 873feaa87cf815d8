"""A fan's browser, as far as the app can tell: one keep-alive connection, the cookies it was
given, and the CSRF token from the page's form. Standard library only."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

# wrk sends the same User-Agent: Flask-Login's session protection hashes it, and a mismatch
# would mark every logged-in request "not fresh" and rewrite the cookie.
USER_AGENT = "showboard-bench"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class ClientError(RuntimeError):
    """The app answered, but not the way a working page or login does."""


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str
    sets_cookie: bool
    cache: str  # the app's X-Cache header: hit, miss, revalidated, or ""


class Client:
    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path: str) -> Reply:
        try:
            return self._send("GET", path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection; a GET is safe to send again.
            self._connection.close()
            return self._send("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> Reply:
        # Never retried: a POST that reached the app may have been stored.
        return self._send("POST", path, urlencode(fields))

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        found = CSRF_FIELD.search(page.body)
        if page.status != 200 or found is None:
            raise ClientError(f"GET {path}: {page.status}, no csrf_token in the form")
        return found.group(1)

    def log_in(self, username: str, password: str) -> None:
        """A real login: the form's token, then the POST; the app answers 302 on success."""
        token = self.csrf_token("/login")
        answer = self.post(
            "/login", {"csrf_token": token, "username": username, "password": password, "next": ""}
        )
        if answer.status != 302 or "session" not in self.cookies:
            raise ClientError(f"login as {username} failed: {answer.status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def close(self) -> None:
        self._connection.close()

    def _send(self, method: str, path: str, body: str | None = None) -> Reply:
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        set_cookies = response.headers.get_all("Set-Cookie") or []
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Reply(
            response.status,
            response.headers.get("Location", ""),
            text,
            bool(set_cookies),
            response.headers.get("X-Cache", ""),
        )
