"""Running a repository's tests: commands, the sandboxed run, JUnit parsing, per-test results."""
