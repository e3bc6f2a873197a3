"""Unit tests of the core pipeline pieces."""
