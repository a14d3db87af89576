"""A small GeoIP2-City database of our own, for the tests and ``make dev``: the documentation
address ranges (RFC 5737 for IPv4, RFC 3849 for IPv6), which never reach the Internet, mapped to
a few places, written with ``mmdb-writer`` in MaxMind's format and read by the app with
``geoip2`` exactly as a licensed GeoIP2/GeoLite2 City file is.

    python -m devtools.geo_database PATH     # write it (``make dev`` does, and points GEOIP_DATABASE at it)

| addresses              | country | postcode | place                 |
|------------------------|---------|----------|-----------------------|
| 192.0.2.0/24           | FR      | 67000    | Strasbourg (Bas-Rhin) |
| 198.51.100.0/25        | FR      | 13150    | Tarascon              |
| 198.51.100.128/25      | FR      | (none)   | France, no postcode   |
| 203.0.113.0/25         | FR      | 75011    | Paris 11e             |
| 203.0.113.128/25       | BE      | 1000     | Bruxelles             |
| 2001:db8:67::/48       | FR      | 67000    | Strasbourg            |
| 2001:db8:13::/48       | FR      | 13150    | Tarascon              |
| 2001:db8:f0::/48       | FR      | (none)   | France, no postcode   |
| 2001:db8:75::/48       | FR      | 75011    | Paris 11e             |
| 2001:db8:be::/48       | BE      | 1000     | Bruxelles             |

Any other address (``198.18.0.1``, ``2001:db8:ffff::1``, ``127.0.0.1``) is not in it.
:data:`SAMPLE` names one address of each, for tests and for trying a limit by hand.

:func:`write_networks` writes a database of any size from ``(network, record)`` pairs (the
geo check's benchmark makes a million networks with it).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable


def record(country: str | None, postcode: str | None = None, city: str | None = None) -> dict:
    """A GeoIP2-City record as MaxMind writes one (the fields the app reads, and a few it does not)."""
    found: dict = {}
    if country:
        names = {"FR": ("France", "France"), "BE": ("Belgium", "Belgique")}.get(country, (country, country))
        found["country"] = {"iso_code": country, "names": {"en": names[0], "fr": names[1]}}
        found["registered_country"] = dict(found["country"])
        found["continent"] = {"code": "EU", "names": {"en": "Europe", "fr": "Europe"}}
    if city:
        found["city"] = {"names": {"en": city, "fr": city}}
    if postcode:
        found["postal"] = {"code": postcode}
    return found


NETWORKS: list[tuple[str, dict]] = [
    ("192.0.2.0/24", record("FR", "67000", "Strasbourg")),
    ("198.51.100.0/25", record("FR", "13150", "Tarascon")),
    ("198.51.100.128/25", record("FR")),
    ("203.0.113.0/25", record("FR", "75011", "Paris")),
    ("203.0.113.128/25", record("BE", "1000", "Bruxelles")),
    ("2001:db8:67::/48", record("FR", "67000", "Strasbourg")),
    ("2001:db8:13::/48", record("FR", "13150", "Tarascon")),
    ("2001:db8:f0::/48", record("FR")),
    ("2001:db8:75::/48", record("FR", "75011", "Paris")),
    ("2001:db8:be::/48", record("BE", "1000", "Bruxelles")),
]

# One address of each place: (IPv4, IPv6).
SAMPLE = {
    "strasbourg": ("192.0.2.10", "2001:db8:67::10"),
    "tarascon": ("198.51.100.10", "2001:db8:13::10"),
    "france_no_postcode": ("198.51.100.200", "2001:db8:f0::10"),
    "paris": ("203.0.113.10", "2001:db8:75::10"),
    "bruxelles": ("203.0.113.200", "2001:db8:be::10"),
    "unknown": ("198.18.0.1", "2001:db8:ffff::1"),
}


def write_networks(path: Path, networks: Iterable[tuple[str, dict]], *,
                   description: str = "Ticketing test GeoIP2-City") -> Path:
    """Write ``networks`` (CIDR text, GeoIP2-City record) as a GeoIP2-City database at ``path``
    (IPv6 tree, IPv4 networks under ::/96 as MaxMind's own databases place them)."""
    import netaddr
    from mmdb_writer import MMDBWriter

    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", languages=["en", "fr"],
                        description=description, ipv4_compatible=True)
    for network, data in networks:
        writer.insert_network(netaddr.IPSet([network]), data)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    writer.to_db_file(str(partial))
    partial.replace(path)
    return path


def write_database(path: Path) -> Path:
    """The small test database of this module's table at ``path`` (written again each time: it
    takes milliseconds, and a stale one would lie)."""
    return write_networks(path, NETWORKS)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m devtools.geo_database PATH")
    print(write_database(Path(sys.argv[1])))
