"""Who is looking and what they may see and do: the viewer, visibility filters, permissions."""
