"""Operators' view: Prometheus metrics at /metrics and a health check at /healthz."""
