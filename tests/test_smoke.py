from tests.conftest import Browserish, Factory


def test_index_lists_boards(client: Browserish, make: Factory) -> None:
    make.board("partner-track", name="Partner Track", network="Netflix", status="cancelled")
    page = client.get("/").get_data(as_text=True)
    assert "Partner Track" in page
    assert "cancelled" in page


def test_member_starts_thread_and_replies(member_client: Browserish, make: Factory) -> None:
    board = make.board("partner-track")
    response = member_client.post(
        f"/b/{board.slug}/new",
        {"title": "Will Partner Track get a season 2?", "body": "Hope so"},
        page=f"/b/{board.slug}/new",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/t/")
    thread_url = response.headers["Location"]
    reply = member_client.post(
        thread_url.rsplit("/", 1)[0] + "/reply", {"body": "Me **too**"}, page=thread_url
    )
    assert reply.status_code == 302
    page = member_client.get(reply.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "<strong>too</strong>" in page
