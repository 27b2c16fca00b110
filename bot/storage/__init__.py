"""Persistence adapter: SQLAlchemy async storage."""
