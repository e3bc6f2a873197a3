def evaluate(tokens: list[str]) -> float:
    """Evaluate a reverse-Polish expression of numbers and + - * /."""
    stack: list[float] = []
    for token in tokens:
        if token in "+-*/":
            b = stack.pop()
            a = stack[-1]
            if token == "+":
                stack.append(a + b)
            elif token == "-":
                stack.append(a - b)
            elif token == "*":
                stack.append(a * b)
            else:
                stack.append(a / b)
        else:
            stack.append(float(token))
    return stack[-1] if len(stack) == 1 else float("nan")
