"""Pure domain logic: no I/O, no SDKs."""
