"""Ids sort by creation time; search folding ignores accents, case and spacing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.adapters import clock, ids
from chalicelib.values.text import fold


def test_ids_are_ulids_sorted_by_creation_time():
    start = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    made = []
    for step in range(50):
        clock.set_clock(clock.frozen_at(start + timedelta(milliseconds=step)))
        made.append(ids.new_id())
    clock.set_clock(None)
    assert made == sorted(made) and len(set(made)) == 50
    assert all(ids.is_id(value) for value in made)
    assert not ids.is_id("01ARZ3NDEKTSV4RRFFQ69G5FA#") and not ids.is_id("short")


def test_fold_ignores_accents_case_and_spacing():
    assert fold("  Élodie   DUPONT-Lefèvre ") == "elodie dupont-lefevre"
    assert fold("Œuvre ÇA") == "œuvre ca"
    assert fold(None) == ""


def test_an_id_says_when_it_was_made():
    from datetime import datetime, timezone

    from chalicelib.adapters import clock, ids

    moment = datetime(2026, 12, 2, 14, 30, 15, 123000, tzinfo=timezone.utc)
    clock.set_clock(clock.frozen_at(moment))
    try:
        assert ids.made_at(ids.new_id()) == moment
    finally:
        clock.set_clock(None)
