def quicksort(values: list[int]) -> list[int]:
    if not values:
        return []
    pivot = values[0]
    lesser = quicksort([x for x in values[1:] if x < pivot])
    greater = quicksort([x for x in values[1:] if x > pivot])
    return lesser + [pivot] + greater
