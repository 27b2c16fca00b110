"""Scale-out on procrastinate: the roles of a cluster (the only package importing procrastinate)."""
