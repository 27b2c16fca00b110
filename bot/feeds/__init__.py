"""Inbound adapter: fetching and parsing feeds safely."""
