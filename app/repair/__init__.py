"""The offline repair engine: candidates, the verifier, the search, localization, templates."""
