"""Helpers shared by the search test modules (test modules never import each other)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.access.viewer import Viewer
from forum.models import Post, Thread
from forum.search import search
from forum.search.search import SearchFilters


def found(db: Session, viewer: Viewer, query: str, **filters: object) -> list[int]:
    """The post ids `viewer` finds for `query`, in the order shown (all pages)."""
    ids: list[int] = []
    for page in range(1, search.MAX_PAGES + 1):
        result = search.find(db, viewer, query, SearchFilters(**filters), page)  # type: ignore[arg-type]
        ids += [hit.post_id for hit in result.hits]
        if len(result.hits) < search.PER_PAGE:
            break
    return ids


def opener(db: Session, thread: Thread) -> Post:
    post = db.scalar(select(Post).where(Post.thread_id == thread.id, Post.number == 1))
    assert post is not None
    return post
