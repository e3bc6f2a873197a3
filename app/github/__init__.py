"""GitHub: App auth, the client wrapper, repo config, and PR/comment rendering."""
