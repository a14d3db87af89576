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


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made():
    """A batch written under one millisecond (a frozen clock here, a fast Lambda in production)
    lists back in the order it was written; ids made at once by several threads stay distinct,
    and neighbours differ by more than one (not guessable from one another)."""
    from concurrent.futures import ThreadPoolExecutor

    clock.set_clock(clock.frozen_at(datetime(2026, 12, 5, 9, tzinfo=timezone.utc)))
    try:
        made = [ids.new_id() for _ in range(500)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            at_once = list(pool.map(lambda _: ids.new_id(), range(2000)))
    finally:
        clock.set_clock(None)
    assert made == sorted(made) and len(set(made)) == 500
    assert {value[:10] for value in made} == {made[0][:10]}  # the same millisecond throughout
    assert len(set(at_once) | set(made)) == 2500
    crockford = str.maketrans("0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv")
    values = [int(value.translate(crockford), 32) for value in made]
    steps = {later - earlier for earlier, later in zip(values, values[1:])}
    assert min(steps) > 0 and len(steps) > 400


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
