"""WebSub adapter: the hub client, the callback endpoint, and the push ingest path."""
