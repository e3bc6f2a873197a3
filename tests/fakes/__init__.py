"""Strict GitHub and LLM doubles."""
