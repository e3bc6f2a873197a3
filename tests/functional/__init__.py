"""Whole-flow tests."""
