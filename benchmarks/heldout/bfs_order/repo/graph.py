from collections import deque


def bfs_order(graph: dict[str, list[str]], start: str) -> list[str]:
    """Nodes in the order a breadth-first search from `start` reaches them."""
    seen = {start}
    order = []
    queue = deque([start])
    while queue:
        node = queue.pop()
        order.append(node)
        for nxt in graph.get(node, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return order
