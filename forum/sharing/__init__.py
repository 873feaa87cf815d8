"""What the forum shows outside itself: Atom feeds, sitemaps, link-preview tags."""
