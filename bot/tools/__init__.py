"""Offline command-line tools: match, cluster, check-feed."""
