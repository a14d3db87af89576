"""The harness's no-Scan guard really stops a Scan (so "no Scan in the run" means something).

The guard records the attempt to fail the run; this test removes its own deliberate record.
"""
from __future__ import annotations

import pytest

from tests import conftest


def test_a_scan_raises_and_is_recorded():
    from chalicelib.models.catalog import Venue

    before = len(conftest.SCANS)
    with pytest.raises(AssertionError, match="Scan is forbidden"):
        list(Venue.scan(limit=1))
    assert len(conftest.SCANS) == before + 1
    del conftest.SCANS[before:]
