"""Letter grades from percentages."""

BOUNDS = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


def letter(score: int) -> str:
    for bound, name in BOUNDS:
        if score > bound:
            return name
    return "F"


def report(scores: dict[str, int]) -> dict[str, str]:
    return {student: letter(score) for student, score in scores.items()}
