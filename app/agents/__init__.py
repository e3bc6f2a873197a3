"""The planner-led chain: reproduce, localize, patch, verify."""
