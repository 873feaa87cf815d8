"""Full-text search: what a post is found by (search_documents), the query syntax, the SQLite
and PostgreSQL engines behind search.find, and the search page's form, loader, snippets and
suggestions."""
