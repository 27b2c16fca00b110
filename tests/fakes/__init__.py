"""Test fakes: chat platform APIs served over real HTTP on 127.0.0.1, and an in-memory store."""
