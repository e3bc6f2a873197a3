"""GitHub's edge: App auth, the client wrapper, GraphQL, git over HTTP, Actions, permissions."""
