"""An archived board is read-only: it offers no way to start a thread, says it is archived
where it used to invite the first post, and its new-thread address refuses with an
explanation instead of a form, handing back whatever was typed."""

from __future__ import annotations

from tests.conftest import Browserish, Factory


def test_archived_board_offers_no_new_thread_and_says_it_is_archived(
    member_client: Browserish,
    make: Factory,
) -> None:
    board = make.board(is_archived=True)
    html = member_client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert f"/b/{board.slug}/new" not in html
    assert "New thread" not in html
    assert "Be the first" not in html
    assert "This board is archived" in html


def test_archived_board_offers_visitors_no_new_thread_either(
    client: Browserish,
    make: Factory,
) -> None:
    board = make.board(is_archived=True)
    html = client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert f"/b/{board.slug}/new" not in html and "Be the first" not in html


def test_open_board_still_invites_the_first_thread(
    member_client: Browserish, make: Factory
) -> None:
    board = make.board()
    html = member_client.get(f"/b/{board.slug}").get_data(as_text=True)
    assert f"/b/{board.slug}/new" in html and "Be the first" in html


def test_new_thread_page_on_an_archived_board_explains_and_shows_no_form(
    member_client: Browserish,
    make: Factory,
) -> None:
    board = make.board(is_archived=True)
    response = member_client.get(f"/b/{board.slug}/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "archived" in html
    assert "<form" not in html.split("<main", 1)[1]
    assert "Post thread" not in html


def test_a_post_to_an_archived_board_is_refused_but_the_text_comes_back(
    member_client: Browserish,
    make: Factory,
) -> None:
    board = make.board(is_archived=True)
    response = member_client.post(
        f"/b/{board.slug}/new",
        {"title": "Season 6 when?", "body": "Still <waiting> & hoping"},
        page="/",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "archived" in html and "Post thread" not in html
    assert "<form" not in html.split("<main", 1)[1]
    assert "Season 6 when?" in html
    assert "Still &lt;waiting&gt; &amp; hoping" in html
    assert "readonly" in html
