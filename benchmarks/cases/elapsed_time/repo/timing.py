from dataclasses import dataclass


@dataclass
class Span:
    start: float
    end: float

    def duration(self) -> float:
        return self.start - self.end


def total(spans: list[Span]) -> float:
    return sum(s.duration() for s in spans)
