"""Telegram platform adapter (python-telegram-bot)."""
