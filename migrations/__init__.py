"""Alembic migrations for the tables in `app/models.py` (a package so it ships with the wheel)."""
