from graph import bfs_order


def test_wide():
    graph = {"r": ["x", "y", "z"], "x": ["x1"], "y": ["y1"], "z": []}
    assert bfs_order(graph, "r") == ["r", "x", "y", "z", "x1", "y1"]


def test_alone():
    assert bfs_order({}, "q") == ["q"]
