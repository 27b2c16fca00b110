"""The chat flow: commands, their replies, feed checks, OPML, recent matches, workspaces."""
