class Journal:
    def __init__(self) -> None:
        self.entries: list[str] = []

    def add(self, text: str) -> None:
        self.entries.append(text.strip())

    def latest(self) -> str | None:
        if not self.entries:
            return None
        return self.entries[len(self.entries)]
