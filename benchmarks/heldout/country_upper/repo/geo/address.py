from geo.codes import normalize_code


def label(city: str, code: str) -> str:
    return f"{city}, {normalize_code(code)}"
