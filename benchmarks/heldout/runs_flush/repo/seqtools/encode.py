from seqtools.runs import runs


def run_length(values: list[int]) -> list[tuple[int, int]]:
    return [(run[0], len(run)) for run in runs(values)]
