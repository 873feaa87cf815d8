"""Conversation: quotes and @mentions, notifications (in the app and by mail), watching and
muting, unread tracking and live threads."""
