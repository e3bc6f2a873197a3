from dataclasses import dataclass


@dataclass
class Interval:
    start: int
    end: int

    def overlaps(self, other: "Interval") -> bool:
        """Half-open intervals [start, end) share at least one point."""
        return self.start < other.end and other.start < other.end

    def length(self) -> int:
        return self.end - self.start
