"""The outbound flow: the outbox delivered in order, and the daily digests."""
