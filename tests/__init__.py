"""FixWurx test suite."""
