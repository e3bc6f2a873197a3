from metrics.summary import summarize


def test_no_requests():
    assert summarize([]) == "avg 0.0 ms over 0 requests"


def test_some():
    assert summarize([10.0, 20.0]) == "avg 15.0 ms over 2 requests"
