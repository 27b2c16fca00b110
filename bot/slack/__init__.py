"""Slack platform adapter (slack-bolt / slack-sdk)."""
