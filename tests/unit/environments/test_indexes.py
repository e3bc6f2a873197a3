"""The egress allow-list install steps get, from the operator's index settings."""

from __future__ import annotations

from app.environments.indexes import egress_policy


def test_no_index_configured_means_pypi_and_nothing_trusted() -> None:
    policy = egress_policy({}, {}, "")
    assert policy.endpoints == {("pypi.org", 443), ("files.pythonhosted.org", 443)}
    assert policy.trusted == frozenset()


def test_an_index_url_replaces_pypi_and_its_host_is_trusted() -> None:
    policy = egress_policy({"index-url": "http://devpi.lan:3141/root/pypi/+simple/"}, {}, "")
    assert policy.endpoints == {("devpi.lan", 3141)}
    assert policy.is_trusted("devpi.lan") and not policy.allows("pypi.org", 443)


def test_extra_indexes_find_links_uv_variables_and_extra_hosts_are_listed() -> None:
    policy = egress_policy(
        {
            "extra-index-url": "https://mirror.example.com/simple file:///opt/pypi/simple",
            "find-links": "https://wheels.example.org/, /opt/wheels",
        },
        {"UV_INDEX": "internal=https://Internal.Example.net:8443/simple other.example"},
        "cdn.example.com files.example.com:8080",
    )
    assert policy.endpoints == {
        ("pypi.org", 443),
        ("files.pythonhosted.org", 443),
        ("mirror.example.com", 443),
        ("wheels.example.org", 443),
        ("internal.example.net", 8443),
        ("cdn.example.com", 443),
        ("files.example.com", 8080),
    }
    assert not policy.is_trusted("pypi.org") and policy.is_trusted("internal.example.net")


def test_uv_default_index_replaces_pypi() -> None:
    policy = egress_policy({}, {"UV_DEFAULT_INDEX": "https://proxy.example.com/simple"}, "")
    assert policy.endpoints == {("proxy.example.com", 443)}
