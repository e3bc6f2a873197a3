"""The App's flows: what FixWurx does for one run, above GitHub's edge (`app/github`).

`flow.execute_run` is the entry a worker calls: it builds the `job` (the run, its repository,
the installation's client, the repo config) and hands it to `fixing` (a labelled issue or a
`/fixwurx` command), `comment_commands`, `ci/` (the repository's CI as second verifier) or
`rollback/` (a merged fix that breaks the default branch). `records` holds the flows' own rows;
`render` the text they post. A flow returns a `Verdict` and records no run status itself.
"""
