"""The offline repair engine: test-result parsing, fault localization and fix templates."""
