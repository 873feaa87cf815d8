"""Flask CLI commands: init-db, backup, restore, boards import, episodes open, users create, demo,
posts rerender, recount, search reindex, db revision."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from alembic.util import CommandError
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import delete, select

from forum.accounts import membership
from forum.conversation import mentions, notification_mail
from forum.db import db_session, engine
from forum.discussion import episodes, markup, posting, quote_copies
from forum.discussion.episode_codes import code_of
from forum.models import Board, BoardModerator, Post, PostQuote, Role, utcnow
from forum.platform import backup, demo, freshness, migrate
from forum.platform.text import USERNAME_PATTERN
from forum.search import search_documents, search_sqlite
from forum.staff import recount, showfile


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(boards)
    app.cli.add_command(episodes_group)
    app.cli.add_command(users)
    app.cli.add_command(demo_command)
    app.cli.add_command(posts)
    app.cli.add_command(recount_command)
    app.cli.add_command(search_group)
    app.cli.add_command(db_group)
    app.cli.add_command(notification_mail.notifications_cli)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema (Alembic migrations). Safe to run twice at once: the second
    waits for the first and then has nothing to do."""
    try:
        result = migrate.upgrade(engine())
    except CommandError as error:
        # The usual cause: the database was migrated by newer code than this checkout.
        raise click.ClickException(f"{error}. Is this code older than the database?") from None
    for migration in result.applied:
        click.echo(f"Applied {migration}")
    if result.applied:
        click.echo(f"Database upgraded to revision {result.revision}.")
    else:
        click.echo(f"Database is up to date (revision {result.revision}).")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Back up the database to FILE while the site keeps running (SQLite: online backup API;
    PostgreSQL: pg_dump -Fc). FILE appears only once the backup is complete."""
    try:
        summary = backup.backup(engine(), file)
    except backup.BackupError as error:
        raise click.ClickException(f"{error} Nothing was written to {file}.") from None
    click.echo(
        f"Wrote {file} ({_size(summary.size)}, revision {summary.revision}): "
        f"{_main_counts(summary)}."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Restore a backup made by `flask backup` into the configured database, which must be
    empty: restore never overwrites a forum."""
    try:
        summary = backup.restore(engine(), file)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file} (revision {summary.revision}): {_main_counts(summary)}.")
    code = migrate.head()
    if summary.revision == code:
        click.echo("The schema is up to date.")
    elif summary.revision and migrate.is_known(summary.revision):
        click.echo(f"This code is at revision {code}: run `flask init-db` to upgrade the schema.")
    else:
        click.echo(
            f"This code does not know revision {summary.revision}: the backup was made "
            "by newer code, so run that version."
        )


def _main_counts(summary: backup.Summary) -> str:
    return ", ".join(f"{summary.counts.get(table, 0):,} {table}" for table in backup.MAIN_TABLES)


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


boards = AppGroup("boards", help="Manage show boards.")


@boards.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keep-existing",
    is_flag=True,
    help="Only add boards that don't exist yet; leave edited ones alone.",
)
def import_boards(path: Path, keep_existing: bool) -> None:
    """Create or update boards from a TOML show file (matched by slug)."""
    try:
        entries = showfile.parse(path.read_text(encoding="utf-8"))
    except (showfile.ShowFileError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: {error}. Nothing was imported.") from None
    session = db_session()
    result = showfile.upsert(session, entries, keep_existing=keep_existing)
    session.commit()
    click.echo(f"Imported {path}: {result.summary()}.")


episodes_group = AppGroup("episodes", help="Episodes and their discussion threads.")


@episodes_group.command("open")
@click.option("--board", "slug", metavar="SLUG", help="Only this board (default: every board).")
def open_episode_threads(slug: str | None) -> None:
    """Open the official discussion thread of every episode that has aired and has none yet
    (the worker does this every 15 minutes)."""
    session = db_session()
    board = None
    if slug is not None:
        board = session.scalar(select(Board).where(Board.slug == slug))
        if board is None:
            raise click.ClickException(f"No board with the slug '{slug}'.")
    result = episodes.open_aired_threads(session, utcnow().date(), board=board)
    slugs = {board_id: slug for board_id, slug in session.execute(select(Board.id, Board.slug))}
    session.commit()
    for thread in result.opened:
        code = code_of(thread.episode_key or 0)
        click.echo(f"Opened {code} on {slugs[thread.board_id]}: thread {thread.id}")
    if result.reason:
        click.echo(f"Nothing opened: {result.reason}")
    elif not result.opened:
        click.echo("Nothing to open: every aired episode has its thread.")


users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MEMBER.value,
    show_default=True,
)
@click.option(
    "--board",
    "boards_moderated",
    multiple=True,
    metavar="SLUG",
    help="With --role moderator: moderate only this board (repeatable).",
)
def create_user(
    name: str, email: str, password: str, role: str, boards_moderated: tuple[str, ...]
) -> None:
    """Create an account that can log in at once (verified, no new-member limits)."""
    if not USERNAME_PATTERN.match(name):
        raise click.ClickException("Usernames are 3-30 letters, digits, _ or -.")
    if boards_moderated and role != Role.MODERATOR.value:
        raise click.ClickException("--board only applies to --role moderator.")
    session = db_session()
    board_ids = []
    for slug in boards_moderated:
        board_id = session.scalar(select(Board.id).where(Board.slug == slug))
        if board_id is None:
            raise click.ClickException(f"No board with the slug '{slug}'.")
        board_ids.append(board_id)
    try:
        user = membership.create_user(session, name, email, password, role=Role(role), trusted=True)
    except membership.AccountConflict as conflict:
        raise click.ClickException(conflict.message) from None
    session.add_all(BoardModerator(user_id=user.id, board_id=b) for b in board_ids)
    session.commit()
    scope = f" of {', '.join(boards_moderated)}" if boards_moderated else ""
    click.echo(f"Created {user.role} {user.username}{scope}.")


@click.command("demo")
@with_appcontext
@click.option("--threads", type=click.IntRange(min=1), help="Bulk mode: this many threads.")
@click.option("--posts", type=click.IntRange(min=1), help="Bulk mode: this many posts in all.")
def demo_command(threads: int | None, posts: int | None) -> None:
    """Seed the demo community once; with --threads/--posts, add bulk data for benchmarks."""
    session = db_session()
    if threads is None and posts is None:
        if demo.seed_demo(session):
            session.commit()
            click.echo("Demo community added.")
        else:
            click.echo("Demo community is already there.")
        click.echo(f"Log in as demo / {demo.DEMO_PASSWORD} (also mod_maria and admin).")
        return
    threads = threads or max(1, (posts or 0) // 20)
    posts = posts or threads * 20
    started = time.perf_counter()
    with click.progressbar(length=posts, label="Adding posts", file=sys.stderr) as bar:
        done = 0

        def advance(written: int) -> None:
            nonlocal done
            bar.update(written - done)
            done = written

        try:
            result = demo.bulk_generate(session, threads, posts, progress=advance)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    elapsed = time.perf_counter() - started
    click.echo(
        f"Added {result.threads} threads and {result.posts} posts in {elapsed:.1f} s "
        f"({result.posts / elapsed:,.0f} posts/s)."
    )


posts = AppGroup("posts", help="Maintain posts.")


@posts.command("rerender")
@click.option("--all", "everything", is_flag=True, help="Also posts already at this version.")
def rerender(everything: bool) -> None:
    """Re-render stored HTML from Markdown after the rendering rules changed."""
    session = db_session()
    stmt = select(Post).execution_options(yield_per=1000)
    if not everything:
        stmt = stmt.where(Post.render_version != markup.RENDER_VERSION)
    # What the posts quote is found again as they render (posts from before post_quotes
    # existed get their rows here).
    old_rows = delete(PostQuote).execution_options(synchronize_session=False)
    if not everything:
        old_rows = old_rows.where(
            PostQuote.post_id.in_(
                select(Post.id).where(Post.render_version != markup.RENDER_VERSION)
            )
        )
    session.execute(old_rows)
    resolver = mentions.resolver_for(session)
    count = 0
    for post in session.scalars(stmt):
        rendered = markup.render(post.source, resolver)
        # A quote of a hidden or deleted post keeps no copy (forum/discussion/quote_copies.py).
        quotes = posting.quoted_posts(session, None, rendered.quoted_post_ids, judged=())
        if quotes.withheld:
            rendered = markup.render(post.source, resolver, quotes.withheld)
        quote_copies.write(session, post.id, quotes.found)
        html = rendered.html
        if html != post.html:
            # What search finds follows the text (its title, if any, is unchanged).
            search_documents.index_text(session, post.id, html)
        post.html = html
        post.render_version = markup.RENDER_VERSION
        count += 1
    freshness.changed(session, site=True)  # any page may print a re-rendered post
    session.commit()
    click.echo(f"Re-rendered {count} posts (render version {markup.RENDER_VERSION}).")


@click.command("recount")
@click.option("--dry-run", is_flag=True, help="Report the differences and change nothing.")
@with_appcontext
def recount_command(dry_run: bool) -> None:
    """Recount every denormalised counter (boards, threads, members) from the rows and fix the
    ones that differ; a healthy forum has none."""
    session = db_session()
    found = recount.differences(session) if dry_run else recount.repair(session)
    checked = recount.checked(session)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    for difference in found:
        click.echo(str(difference))
    noun = "difference" if len(found) == 1 else "differences"
    outcome = "" if not found else " (not fixed: --dry-run)" if dry_run else ", fixed"
    click.echo(
        f"Counters checked: {checked.boards:,} boards, {checked.threads:,} threads, "
        f"{checked.users:,} users; {len(found):,} {noun}{outcome}."
    )


search_group = AppGroup("search", help="Full-text search.")


@search_group.command("reindex")
@click.option(
    "--rebuild",
    is_flag=True,
    help="SQLite: also rebuild the FTS5 index from the documents (after a crash or a restore).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Posts checked per transaction.",
)
def search_reindex(rebuild: bool, batch: int) -> None:
    """Rebuild the search documents from the posts, writing only the ones that differ (a
    healthy index gets no write); safe while the site runs: each batch is its own short
    transaction, so the site's writes wait for one batch at most, never for the whole run."""
    session = db_session()
    started = time.perf_counter()
    with click.progressbar(length=1, label="Indexing posts", file=sys.stderr) as bar:
        done = 0

        def advance(now_done: int, total: int) -> None:
            nonlocal done
            # A batch is written: commit it, releasing SQLite's write lock and PostgreSQL's row
            # locks (a 1M-post run in one transaction outlasted the site's 15 s busy timeout).
            freshness.private(session)  # the index is no page: what search finds is never cached
            session.commit()
            bar.length = max(total, 1)
            bar.update(now_done - done)
            done = now_done

        result = search_documents.reindex(session, batch=batch, progress=advance)
    if not rebuild:
        rebuilt = ""
    elif session.get_bind().dialect.name == "sqlite":
        search_sqlite.rebuild(session.connection())
        freshness.private(session)
        session.commit()
        rebuilt = " FTS5 index rebuilt."
    else:
        rebuilt = " Nothing to rebuild on PostgreSQL (the vector is a generated column)."
    elapsed = time.perf_counter() - started
    click.echo(
        f"Checked {result.posts:,} posts in {elapsed:.1f} s: {result.written:,} documents "
        f"written, {result.removed:,} removed.{rebuilt}"
    )


db_group = AppGroup("db", help="Schema migrations.")


@db_group.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    migrate.new_revision(engine(), message)
