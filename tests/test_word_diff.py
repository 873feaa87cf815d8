"""Defect 13: the edit history's word diff interleaved words ("@demoAlso whatadding"), because
the spaces between words were matched on their own and cut every rewrite into single words.
Each word now carries the whitespace before it, so an insertion or a deletion comes out as one
run with its spaces kept."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from forum.discussion import posting
from forum.discussion.history import Change, tokens, word_diff
from tests.conftest import Factory, browser_for


def marked(changes: list[Change]) -> str:
    """The changes as the revisions page marks them up (without the escaping)."""
    tags = {
        "same": "{}",
        "added": "<ins>{}</ins>",
        "removed": "<del>{}</del>",
        "skipped": "[… {} …]",
    }
    return "".join(tags[change.kind].format(change.text) for change in changes)


def test_a_rewritten_sentence_is_one_removed_run_and_one_added_run() -> None:
    before = "@demo Great idea for the rewatch"
    after = "@demo Also what about adding subtitles"

    assert marked(word_diff(before, after)) == (
        "@demo<del> Great idea for the rewatch</del><ins> Also what about adding subtitles</ins>"
    )


def test_small_edits_keep_the_words_and_spaces_around_them() -> None:
    before = "@demo What about adding a spoiler tag?"
    after = "@demo Also what about adding spoiler tags?"

    assert marked(word_diff(before, after)) == (
        "@demo<del> What</del><ins> Also what</ins> about adding<del> a</del> spoiler"
        "<del> tag</del><ins> tags</ins>?"
    )


def test_the_new_text_is_exactly_the_unchanged_and_added_runs() -> None:
    before = "Line one.\n\n  Indented  twice, then a trailing space "
    after = "Line one!\n\nIndented twice, and more\t"

    changes = word_diff(before, after)

    assert "".join(c.text for c in changes if c.kind != "removed") == after
    assert "".join(c.text for c in changes if c.kind != "added") == before
    assert "".join(tokens(before)) == before


def test_the_revisions_page_shows_the_runs(app: Flask, db: Session, make: Factory) -> None:
    author = make.user("author_ann")
    thread = make.thread(author=author)
    post = make.reply(thread, author, "@demo Great idea for the rewatch")
    posting.edit_post(db, post, "@demo Also what about adding subtitles", editor=author)
    db.commit()

    page = browser_for(app).get(f"/p/{post.id}/revisions").get_data(as_text=True)

    assert (
        "@demo<del> Great idea for the rewatch</del><ins> Also what about adding subtitles</ins>"
    ) in page
