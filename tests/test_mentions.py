"""@mentions: a member's name links to their profile when the post is saved (as usernames
compare: identity keys), names that are nobody's stay text, mentions in code, quotes and
spoilers are not the post's mentions; and /members/suggest for the autocomplete."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.accounts.membership import delete_account
from forum.conversation import mentions
from forum.discussion import markup
from forum.models import Post, Thread, User
from forum.staff import moderation
from tests.conftest import Browserish, Factory, LoginAs, text_of

REL = 'rel="nofollow ugc noopener"'


def link(username: str, typed: str) -> str:
    return f'<a href="/u/{username}" class="mention" {REL}>{typed}</a>'


@pytest.fixture
def demo(make: Factory) -> User:
    return make.user("demo")


def render(db: Session, source: str) -> markup.Rendered:
    return markup.render(source, mentions.resolver_for(db))


def test_a_mention_links_to_the_profile(db: Session, demo: User) -> None:
    rendered = render(db, "Thanks @demo!")

    assert rendered.html == f"<p>Thanks {link('demo', '@demo')}!</p>\n"
    assert rendered.mentions == ("demo",)


@pytest.mark.parametrize("typed", ["@DEMO", "@Demo", "@\uff24\uff45\uff4d\uff4f"])  # fullwidth
def test_names_compare_as_usernames_do(db: Session, demo: User, typed: str) -> None:
    rendered = render(db, f"ping {typed}")

    assert rendered.html == f"<p>ping {link('demo', typed)}</p>\n"


def test_unknown_and_deleted_names_stay_text(db: Session, make: Factory, demo: User) -> None:
    gone = make.user("gone_gina")
    delete_account(db, gone)
    db.commit()

    rendered = render(db, "@nobody_here and @gone_gina and @demo")

    assert rendered.html == (f"<p>@nobody_here and @gone_gina and {link('demo', '@demo')}</p>\n")
    # Still the post's mentions as typed: notifications compare them to accounts themselves.
    assert rendered.mentions == ("nobody_here", "gone_gina", "demo")


def test_one_query_for_all_the_names(db: Session, make: Factory, sql: object) -> None:
    make.user("alpha_a")
    make.user("beta_b")
    asked: list[list[str]] = []
    resolve = mentions.resolver_for(db)

    def counting(names: object) -> object:
        asked.append(list(names))  # type: ignore[call-overload]
        return resolve(names)  # type: ignore[arg-type]

    rendered = markup.render("@alpha_a @beta_b @alpha_a @nobody", counting)

    assert asked == [["alpha_a", "beta_b", "nobody"]]
    assert rendered.html.count('class="mention"') == 3


def test_no_query_without_an_at_sign(db: Session) -> None:
    called: list[object] = []

    markup.render("No names here", lambda names: called.append(names) or {})

    assert called == []


@pytest.mark.parametrize(
    "source",
    [
        "`@demo`",
        "```\n@demo\n```",
        "    @demo in indented code",
        ">!@demo in a spoiler!<",
        ">!S1E8: @demo in an episode spoiler!<",
        "[@demo](https://example.org/x)",
        "mail demo@demo.org",
    ],
)
def test_no_link_in_code_spoilers_or_links(db: Session, demo: User, source: str) -> None:
    assert 'class="mention"' not in render(db, source).html


@pytest.mark.parametrize(
    "source",
    [
        "`@demo`",
        "```\n@demo\n```",
        ">!@demo hidden!<",
        ">!S1E8: @demo hidden!<",
        "> @demo said this in a quote",
        "> [@demo said](/p/3):\n>\n> words",
        "> > @demo deeper",
    ],
)
def test_mentions_in_code_quotes_and_spoilers_dont_count(
    db: Session, demo: User, source: str
) -> None:
    assert render(db, source).mentions == ()


def test_a_mention_in_a_quote_is_linked_but_not_counted(db: Session, demo: User) -> None:
    rendered = render(db, "> @demo said so\n\nand @demo agrees")

    assert rendered.html.count('class="mention"') == 2
    assert rendered.mentions == ("demo",)


def test_more_than_ten_mentions_all_render_as_links(db: Session, make: Factory) -> None:
    names = [make.user(f"fan_{n:02}").username for n in range(12)]

    rendered = render(db, " ".join(f"@{name}" for name in names))

    assert rendered.html.count('class="mention"') == 12
    assert len(rendered.mentions) == 12  # the notifications take the first ten


def test_typed_class_attributes_are_still_stripped() -> None:
    # Markdown has no syntax for a class; the allowlist admits only the mention class on <a>.
    html = markup.render('[x](https://example.org "t"){.mention} <a class="mention">').html

    assert "<a class" not in html
    assert 'class="mention"' not in html


def test_posting_and_editing_link_mentions(
    db: Session, make: Factory, member_client: Browserish, demo: User
) -> None:
    thread = make.thread(author=demo, title="Mentions")

    member_client.post(
        f"/t/{thread.id}/reply",
        {"body": "Hey @DEMO, look", "post": "1"},
        page=f"/t/{thread.id}/{thread.slug}",
    )
    reply = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 2))
    assert reply is not None
    assert link("demo", "@DEMO") in reply.html
    page = text_of(member_client.get(f"/t/{thread.id}/{thread.slug}"))
    assert link("demo", "@DEMO") in page

    member_client.post(
        f"/p/{reply.id}/edit",
        {"body": "Now @member_mel and @demo", "save": "1"},
        page=f"/p/{reply.id}/edit",
    )
    db.refresh(reply)
    assert link("member_mel", "@member_mel") in reply.html


def test_starting_a_thread_links_mentions(
    db: Session, make: Factory, member_client: Browserish, demo: User
) -> None:
    board = make.board("mention-show")

    member_client.post(
        f"/b/{board.slug}/new",
        {"title": "Calling demo", "body": "@demo what do you think?"},
        page=f"/b/{board.slug}/new",
    )

    opener = db.scalar(
        select(Post).join(Post.thread).where(Thread.board_id == board.id, Post.number == 1)
    )
    assert opener is not None and link("demo", "@demo") in opener.html


def test_rerender_links_mentions_in_older_posts(
    app: Flask, db: Session, make: Factory, demo: User
) -> None:
    thread = make.thread(author=demo, body="Old post for @demo")
    post = db.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post is not None
    post.render_version = markup.RENDER_VERSION - 1
    db.commit()

    result = app.test_cli_runner().invoke(args=["posts", "rerender"])

    assert result.exit_code == 0, result.output
    db.refresh(post)
    assert link("demo", "@demo") in post.html


# ------------------------------------------------------------------------------ suggestions


def test_suggestions_are_usernames_by_prefix(
    make: Factory, member_client: Browserish, demo: User
) -> None:
    make.user("Demolition")
    make.user("dex")

    found = member_client.get("/members/suggest?q=DEM")

    assert found.status_code == 200
    assert found.get_json() == {"query": "DEM", "usernames": ["demo", "Demolition"]}
    assert member_client.get("/members/suggest?q=@dem").get_json()["usernames"] == [
        "demo",
        "Demolition",
    ]


def test_suggestions_leave_out_deleted_and_banned_accounts(
    app: Flask, db: Session, make: Factory, member_client: Browserish, admin: User
) -> None:
    gone = make.user("zed_gone")
    banned = make.user("zed_banned")
    make.user("zed_here")
    delete_account(db, gone)
    with app.app_context():  # moderation queues its notification's jobs on commit
        moderation.suspend(db, admin, banned, None, "spam")
        db.commit()
    db.refresh(banned)
    assert banned.is_banned

    assert member_client.get("/members/suggest?q=zed").get_json()["usernames"] == ["zed_here"]


def test_at_most_eight_suggestions(make: Factory, member_client: Browserish) -> None:
    for n in range(10):
        make.user(f"many_{n}")

    usernames = member_client.get("/members/suggest?q=many").get_json()["usernames"]

    assert usernames == [f"many_{n}" for n in range(8)]


def test_a_prefix_is_not_a_pattern(make: Factory, member_client: Browserish) -> None:
    make.user("pct_fan")

    assert member_client.get("/members/suggest?q=%25").get_json()["usernames"] == []
    assert member_client.get("/members/suggest?q=pct_").get_json()["usernames"] == ["pct_fan"]
    assert member_client.get("/members/suggest?q=p_t").get_json()["usernames"] == []


def test_suggestions_are_for_members_only(client: Browserish, demo: User) -> None:
    response = client.get("/members/suggest?q=de")

    assert response.status_code == 401
    assert b"demo" not in response.data


def test_suggestions_are_rate_limited(
    build_app: object, login_as: LoginAs, make: Factory, member: User
) -> None:
    app = build_app(RATE_LIMITS="on", LIMIT_SEARCH="2 per minute")  # type: ignore[operator]
    browser = Browserish(app.test_client())
    browser.login(member.username)

    answers = [browser.get("/members/suggest?q=me") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].get_json()["usernames"] == []
    assert "Retry-After" in answers[2].headers
