def frequencies(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in text.lower().split():
        word = word.strip(".,!?")
        counts[word] = counts.get(word, 0) + 1


def most_common(text: str) -> str:
    counts = frequencies(text)
    return max(counts, key=counts.__getitem__)
