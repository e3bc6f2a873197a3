def count_words(text: str) -> int:
    """Words separated by runs of spaces."""
    count = 0
    i = 0
    in_word = False
    while i < len(text):
        if text[i] != " " and not in_word:
            count += 1
            in_word = True
        elif text[i] == " ":
            in_word = False
    return count
