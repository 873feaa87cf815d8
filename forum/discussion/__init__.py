"""Boards, threads and posts: markup, posting use cases, read-page loaders and presenters."""
