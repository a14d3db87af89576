"""The two metrics the stack's alarms watch that only the app can know (infra/alarms.py): the
printers gone silent (every five minutes, across venues, from the printers' contact index) and
the instalments whose charge failed (each collector chunk). Both are CloudWatch embedded-metric
lines on standard output, checked here as CloudWatch would read them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.cards import printers, results, silence
from chalicelib.services.subscriptions import collector
from tests.cards_world import CardWorld, SiteAgent


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.set_clock(None)


def metric_points(text: str, name: str) -> list[float]:
    """The points of ``name`` in the EMF lines of ``text``, with the document's shape checked."""
    points = []
    for line in text.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        [directive] = document["_aws"]["CloudWatchMetrics"]
        if directive["Metrics"][0]["Name"] != name:
            continue
        assert directive["Namespace"] == "Ticketing" and directive["Dimensions"] == [["service", "stage"]]
        assert document["service"] == "ticketing" and document["stage"] and isinstance(document["_aws"]["Timestamp"],
                                                                                       int)
        points.append(document[name])
    return points


def test_a_printer_silent_for_15_minutes_is_counted_and_others_are_not(actor, capsys):
    cards = CardWorld(actor)
    agent = SiteAgent(cards.site)
    now = clock.now()
    clock.set_clock(clock.frozen_at(now))
    baseline = silence.report_silent_printers()  # every venue's printers: the other tests' too

    def heard_at(printer, moment):
        clock.set_clock(clock.frozen_at(moment))
        results.apply_message(json.dumps(agent.heartbeat(printer, "ready", at=moment)))
        clock.set_clock(clock.frozen_at(now))

    def printer(name, **fields):
        return printers.register_printer(actor, {"site_id": cards.site.id, "name": name, "model": "Evolis Primacy 2",
                                                 "encoder": True, **fields}).printer

    silent, talking, retired = printer("Salle"), printer("Hall"), printer("Réserve")
    printer("Jamais branchée")  # never reported: its agent is not installed yet
    heard_at(silent, now - timedelta(minutes=20))
    heard_at(talking, now - timedelta(minutes=1))
    heard_at(retired, now - timedelta(minutes=30))
    printers.change_printer(actor, retired.id, {"active": False})
    capsys.readouterr()
    assert silence.report_silent_printers() == baseline + 1
    assert metric_points(capsys.readouterr().out, "SilentPrinters") == [baseline + 1]
    heard_at(silent, now)
    assert silence.report_silent_printers() == baseline


def test_each_collector_chunk_writes_its_failed_charges_zero_included(capsys):
    result = collector._collected(None, ["paid", "failed", "processing", "arrears", "settled"])
    assert (result.done, result.failed) == (2, 2)
    collector._collected({"day": 0}, ["paid"])
    assert metric_points(capsys.readouterr().out, "InstalmentCollectionFailures") == [2, 0]
