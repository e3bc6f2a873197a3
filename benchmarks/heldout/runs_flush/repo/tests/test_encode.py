from seqtools.encode import run_length


def test_encode():
    assert run_length([1, 1, 2]) == [(1, 2), (2, 1)]
