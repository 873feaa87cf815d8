"""forum/discussion/posting.py: threads, replies, edits and soft deletes, and the denormalised
counters
they keep on threads, boards and users."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum.discussion import markup, posting
from forum.models import Board, Post, PostRevision, Role, Thread
from forum.staff import moderation, recount
from forum.staff.recount import Difference
from tests.conftest import Factory


def posts_of(db: Session, thread: Thread) -> list[Post]:
    return list(db.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)))


# ------------------------------------------------------------------------------ create_thread


def test_create_thread_counts_the_opening_post_on_the_thread(db: Session, make: Factory) -> None:
    author = make.user()
    thread = make.thread(author=author, body="Who else thinks season 3 was rushed?")

    (opening,) = posts_of(db, thread)
    assert thread.post_count == 1
    assert thread.reply_count == 0
    assert thread.last_post_id == opening.id
    assert thread.last_post_at == opening.created_at
    assert thread.last_poster_id == author.id
    assert opening.number == 1
    assert opening.author_id == author.id


def test_create_thread_counts_the_thread_and_post_on_the_board(db: Session, make: Factory) -> None:
    board = make.board()
    thread = make.thread(board=board)

    db.refresh(board)
    assert board.thread_count == 1
    assert board.post_count == 1
    assert board.last_post_id == thread.last_post_id
    assert board.last_post_at == thread.last_post_at


def test_create_thread_counts_the_post_on_the_author(db: Session, make: Factory) -> None:
    author = make.user()
    make.thread(author=author)

    db.refresh(author)
    assert author.post_count == 1


def test_create_thread_slugs_the_title(make: Factory) -> None:
    thread = make.thread(title="Will Partner Track get a Season 2?!")

    assert thread.slug == "will-partner-track-get-a-season-2"


def test_replies_update_thread_board_and_author_counters(db: Session, make: Factory) -> None:
    board = make.board()
    opener, replier = make.user(), make.user()
    thread = make.thread(board=board, author=opener)

    reply = make.reply(thread, replier, "First!")
    make.reply(thread, replier, "Second thoughts")
    last = make.reply(thread, opener, "Welcome, both of you")

    for row in (thread, board, opener, replier):
        db.refresh(row)
    assert thread.post_count == 4
    assert thread.reply_count == 3
    assert thread.last_post_id == last.id
    assert thread.last_post_at == last.created_at
    assert thread.last_poster_id == opener.id
    assert board.post_count == 4
    assert board.thread_count == 1
    assert board.last_post_id == last.id
    assert opener.post_count == 2
    assert replier.post_count == 2
    assert reply.number == 2


def test_board_latest_post_follows_the_newest_reply_across_threads(
    db: Session, make: Factory
) -> None:
    board = make.board()
    older = make.thread(board=board, title="Older thread")
    make.thread(board=board, title="Newer thread")

    bump = make.reply(older, make.user(), "Bumping the older thread")

    db.refresh(board)
    assert board.thread_count == 2
    assert board.post_count == 3
    assert board.last_post_id == bump.id
    assert board.last_post_at == bump.created_at


# ------------------------------------------------------------------------------ numbering


def test_posts_are_numbered_one_to_n_in_posting_order(db: Session, make: Factory) -> None:
    thread = make.thread(replies=6)

    assert [post.number for post in posts_of(db, thread)] == [1, 2, 3, 4, 5, 6, 7]


def test_each_thread_numbers_its_own_posts(db: Session, make: Factory) -> None:
    board, fan = make.board(), make.user()
    first = make.thread(board=board, author=fan)
    second = make.thread(board=board, author=fan)
    for _ in range(3):
        make.reply(first, fan)
        make.reply(second, fan)

    assert [post.number for post in posts_of(db, first)] == [1, 2, 3, 4]
    assert [post.number for post in posts_of(db, second)] == [1, 2, 3, 4]


# ------------------------------------------------------------------------------ rendering


def test_source_and_rendered_html_are_both_stored(db: Session, make: Factory) -> None:
    thread = make.thread(body="The finale was **brilliant**")

    db.expire_all()
    (post,) = posts_of(db, thread)
    assert post.source == "The finale was **brilliant**"
    assert post.html == "<p>The finale was <strong>brilliant</strong></p>\n"
    assert post.render_version == markup.RENDER_VERSION


@pytest.mark.parametrize(
    ("body", "forbidden"),
    [
        ("<script>alert('spoilers')</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "<img"),
        ("[free episodes](javascript:alert(1))", 'href="javascript'),
        ("[free episodes](JaVaScRiPt:alert(1))", 'href="javascript'),
        ('<a href="https://evil.example" onclick="steal()">hi</a>', 'onclick="'),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
    ],
)
def test_hostile_markup_is_stored_harmless(
    db: Session, make: Factory, body: str, forbidden: str
) -> None:
    thread = make.thread(body=body)

    db.expire_all()
    (post,) = posts_of(db, thread)
    assert post.source == body
    assert forbidden not in post.html.lower()


def test_script_tags_are_escaped_as_text(db: Session, make: Factory) -> None:
    thread = make.thread(body="<script>alert('spoilers')</script>")

    (post,) = posts_of(db, thread)
    assert "&lt;script&gt;" in post.html


# ------------------------------------------------------------------------------ edit_post


def test_a_new_post_has_not_been_edited(db: Session, make: Factory) -> None:
    (post,) = posts_of(db, make.thread())

    assert post.edited_at is None


def test_edit_post_replaces_source_and_rerenders_html(db: Session, make: Factory) -> None:
    (post,) = posts_of(db, make.thread(body="Old take"))

    posting.edit_post(db, post, "New take: _definitely_ renewed", editor=make.user())
    db.commit()

    db.expire_all()
    stored = db.get(Post, post.id)
    assert stored is not None
    assert stored.source == "New take: _definitely_ renewed"
    assert stored.html == "<p>New take: <em>definitely</em> renewed</p>\n"
    assert "Old take" not in stored.html


def test_edit_post_stamps_edited_at(db: Session, make: Factory) -> None:
    (post,) = posts_of(db, make.thread())

    posting.edit_post(db, post, "Edited", editor=make.user())
    db.commit()

    db.expire_all()
    stored = db.get(Post, post.id)
    assert stored is not None
    assert stored.edited_at is not None
    assert stored.edited_at >= stored.created_at


def test_edit_post_keeps_the_original_and_new_text_as_revisions(db: Session, make: Factory) -> None:
    author = make.user()
    (post,) = posts_of(db, make.thread(author=author, body="First draft"))

    posting.edit_post(db, post, "Second draft", editor=author)
    db.commit()

    revisions = db.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.number)
    ).all()
    assert [(r.number, r.source, r.editor_id) for r in revisions] == [
        (1, "First draft", author.id),
        (2, "Second draft", author.id),
    ]
    assert post.revision_count == 2


def test_edit_post_leaves_counters_and_number_alone(db: Session, make: Factory) -> None:
    thread = make.thread(replies=2)
    second = posts_of(db, thread)[1]

    posting.edit_post(db, second, "Changed my mind", editor=make.user())
    db.commit()

    db.refresh(thread)
    assert thread.post_count == 3
    assert second.number == 2
    assert recount.differences(db) == []


# ------------------------------------------------------------------------------ delete_post


def test_delete_post_is_soft(db: Session, make: Factory) -> None:
    thread = make.thread(replies=1)
    reply = posts_of(db, thread)[1]
    source = reply.source

    posting.delete_post(reply)
    db.commit()

    db.expire_all()
    stored = db.get(Post, reply.id)
    assert stored is not None
    assert stored.is_deleted is True
    assert stored.source == source
    assert stored.html != ""


def test_a_deleted_post_keeps_its_place_in_the_thread(db: Session, make: Factory) -> None:
    thread = make.thread(replies=2)
    posting.delete_post(posts_of(db, thread)[1])
    db.commit()

    make.reply(thread, make.user(), "After the deletion")

    assert [post.number for post in posts_of(db, thread)] == [1, 2, 3, 4]
    db.refresh(thread)
    assert thread.post_count == 4


# ------------------------------------------------------------------------------ recount


def test_counters_match_a_recount_after_mixed_activity(db: Session, make: Factory) -> None:
    boards = [make.board(), make.board(), make.board()]  # the third stays empty
    fans = [make.user(), make.user(), make.user()]
    threads = [
        make.thread(board=boards[0], author=fans[0], replies=3),
        make.thread(board=boards[0], author=fans[1]),
        make.thread(board=boards[1], author=fans[2], replies=1),
    ]
    for n in range(7):
        make.reply(threads[n % 3], fans[n % 2], f"Reply {n}")
    posting.edit_post(db, posts_of(db, threads[0])[2], "Edited", editor=fans[0])
    posting.delete_post(posts_of(db, threads[2])[1])
    db.commit()

    assert recount.differences(db) == []


def test_counters_match_a_recount_after_hiding_and_restoring_a_thread(
    db: Session, make: Factory
) -> None:
    board = make.board()
    moderator = make.user(role=Role.MODERATOR)
    spoilers = make.thread(board=board, title="Finale leak", replies=2)
    make.thread(board=board, replies=1)

    moderation.set_thread_hidden(db, moderator, spoilers, True)
    db.commit()
    assert recount.differences(db) == []

    moderation.set_thread_hidden(db, moderator, spoilers, False)
    db.commit()
    assert recount.differences(db) == []


def test_a_reply_in_a_hidden_thread_is_counted_once_after_restoring(
    db: Session, make: Factory
) -> None:
    board = make.board()
    moderator = make.user(role=Role.MODERATOR)
    spoilers = make.thread(board=board, title="Finale leak", replies=2)
    moderation.set_thread_hidden(db, moderator, spoilers, True)
    db.commit()

    make.reply(spoilers, moderator, "Hidden until the episode airs")
    moderation.set_thread_hidden(db, moderator, spoilers, False)
    db.commit()

    db.refresh(board)
    assert board.post_count == 4
    assert recount.differences(db) == []


def test_a_reply_in_a_hidden_thread_does_not_become_the_boards_latest_post(
    db: Session, make: Factory
) -> None:
    board = make.board()
    moderator = make.user(role=Role.MODERATOR)
    visible = make.thread(board=board, title="Episode 1 discussion")
    spoilers = make.thread(board=board, title="Finale leak")
    moderation.set_thread_hidden(db, moderator, spoilers, True)
    db.commit()

    make.reply(spoilers, moderator, "Hidden until the episode airs")

    db.refresh(board)
    assert board.last_post_id == visible.last_post_id
    assert board.post_count == 1


def test_recount_reports_a_drifted_counter(db: Session, make: Factory) -> None:
    thread = make.thread(replies=2)
    db.execute(update(Thread).where(Thread.id == thread.id).values(post_count=99))
    db.execute(update(Board).where(Board.id == thread.board_id).values(thread_count=5))

    assert recount.differences(db) == [
        Difference("boards", thread.board_id, "thread_count", 5, 1),
        Difference("threads", thread.id, "post_count", 99, 3),
    ]
