"""A new member's link limit counts links to elsewhere: @mention links and the permalink a
quote carries point to the forum's own pages (their notifications are capped instead, stricter
for new members: tests/test_notifications_fanout.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from forum.access.viewer import viewer_for
from forum.discussion import posting, reading
from forum.models import Thread
from tests.conftest import Factory

LIMITS: dict[str, Any] = {
    "RATE_LIMITS_ENABLED": True,
    "NEW_MEMBER_HOURS": 24,
    "NEW_MEMBER_MAX_LINKS": 2,
    "NEW_MEMBER_MAX_THREADS": 1,
    "FLOOD_WINDOW_SECONDS": 60,
}


def loaded(db: Session, thread: Thread) -> Thread:
    found = reading.thread_with_board(db, thread.id)
    assert found is not None
    return found


def test_a_new_members_mentions_and_quote_are_not_counted_as_links(
    db: Session, make: Factory
) -> None:
    thread = loaded(db, make.thread())
    for name in ("ann_one", "ben_two", "cat_three"):
        make.user(name)
    newcomer = make.user("fresh_faye")
    quoted = thread.last_post_id
    body = (
        f"> [@someone said](/p/{quoted}):\n> hi\n\n"
        "@ann_one @ben_two @cat_three what do you think of https://example.org/a?"
    )

    outcome = posting.reply(db, viewer_for(db, newcomer), thread, body, config=LIMITS)

    assert isinstance(outcome, posting.Posted), outcome
    assert outcome.post.html.count('class="mention"') == 3


def test_a_new_members_outside_links_are_still_limited(db: Session, make: Factory) -> None:
    thread = loaded(db, make.thread())
    newcomer = make.user("linky_lin")
    body = "See https://example.org/a, https://example.org/b and https://example.org/c"

    outcome = posting.reply(db, viewer_for(db, newcomer), thread, body, config=LIMITS)

    assert isinstance(outcome, posting.Refused)
    assert outcome.field == "body"
    assert "links" in outcome.message
