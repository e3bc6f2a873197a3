from textkit.count import word_counts


def top_word(text: str) -> str:
    counts = word_counts(text)
    return max(sorted(counts), key=counts.__getitem__)
