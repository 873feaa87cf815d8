"""Moderators' and admins' work: moderation actions, their pages' loaders and forms, the show
file."""
