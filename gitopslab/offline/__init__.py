"""Classroom mode offline: what the lab pulls (needs), the bundle file that carries it (archive), and
the check `up --offline` runs before it changes anything (ready)."""
