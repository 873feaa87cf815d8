"""Reading a rendered form page as a fan sees it, for the tests of forms and accounts."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.test import TestResponse


class FormPage(HTMLParser):
    """What a fan sees of a form page: field values (inputs and textareas) and error messages
    (elements with class `error` or role `alert`)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.errors: list[str] = []
        self._capture: tuple[str, str] | None = None  # (kind, tag or field name)
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "input" and "name" in found:
            self.values[found["name"]] = found.get("value", "")
        elif tag == "textarea" and "name" in found:
            self._capture, self._text = ("textarea", found["name"]), []
        elif "error" in found.get("class", "").split() or found.get("role") == "alert":
            self._capture, self._text = ("error", tag), []

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._capture is None:
            return
        kind, name = self._capture
        if kind == "textarea" and tag == "textarea":
            # The HTML parser drops one newline right after <textarea>; WTForms writes one.
            self.values[name] = "".join(self._text).removeprefix("\r\n").removeprefix("\n")
            self._capture = None
        elif kind == "error" and tag == name:
            self.errors.append(" ".join("".join(self._text).split()))
            self._capture = None


def form_page(response: TestResponse) -> FormPage:
    return FormPage(response.get_data(as_text=True))
