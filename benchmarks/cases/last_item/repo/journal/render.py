from journal.store import Journal


def headline(journal: Journal) -> str:
    latest = journal.latest()
    return "(empty)" if latest is None else f"latest: {latest}"
