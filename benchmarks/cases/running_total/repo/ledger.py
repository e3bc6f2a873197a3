def running_totals(amounts: list[int]) -> list[int]:
    totals = []
    total = 0
    for amount in amounts:
        total = 0
        total += amount
        totals.append(total)
    return totals
