"""Rollback pull requests: when a merged FixWurx fix breaks the default branch, undo it.

The rules come from the systems that do this inside large companies (Chromium's Findit,
PyTorch's autorevert): blame only with evidence, rule out flakes, cap how often, let people opt
out, and log it all. Modules, one concept each:

- `history`: the default branch's first-parent commits, and where a failure sits in a fix's
  watch window;
- `bisect`: the failing tests at one commit, in a fresh work copy through the sandbox, and the
  binary search over first-parent commits for the first bad one;
- `attribute`: the rules that blame a merge (green at its base, red at it, not flaky);
- `guards`: why FixWurx must not roll back (mode, label, window, one per fix, per-day cap);
- `decisions`: the persisted decision, one per failing commit, written before any GitHub call;
- `render`: the evidence as Markdown (the revert pull request's body, the comments);
- `revert`: GraphQL `revertPullRequest` (fallback: `git revert -m 1` on `fixwurx/revert-<N>`),
  auto-merge, the reopened issue;
- `watch`: the entry from the CI flow: a default-branch failure inside a fix's window.
"""
