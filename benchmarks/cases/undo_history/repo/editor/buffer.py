class Buffer:
    def __init__(self, text: str = "") -> None:
        self.text = text
        self.history: list[str] = []

    def replace(self, new: str) -> None:
        self.text = new
        self.history.append(self.text)

    def undo(self) -> None:
        if self.history:
            self.text = self.history.pop()
