from graph import bfs_order


def test_levels():
    graph = {"a": ["b", "c"], "b": ["d"], "c": []}
    assert bfs_order(graph, "a") == ["a", "b", "c", "d"]
