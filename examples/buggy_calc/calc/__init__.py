"""A small calculation library."""
