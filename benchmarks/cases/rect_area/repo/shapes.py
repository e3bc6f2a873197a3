from dataclasses import dataclass


@dataclass
class Rect:
    width: float
    height: float

    def area(self) -> float:
        return self.width * self.width

    def perimeter(self) -> float:
        return 2 * (self.width + self.height)

    def is_square(self) -> bool:
        return self.width == self.height
