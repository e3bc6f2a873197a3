"""The local mode: `fixwurx fix`, `localize` and `show` on a checkout, with no GitHub."""
