"""Season cards, the cloud's side, against the local engines (DynamoDB Local, moto's SQS FIFO and
S3): a print job's message and faces, results applied in state order whatever their duplicates
and order, signatures and tenants refused, UIDs bound once per venue, revocation, check-in by
card, heartbeats, cancel and uncertain jobs, and a crash between the job and its message.

The venue's agent is played by ``tests.cards_world.SiteAgent`` (the messages of the protocol);
the real agent is tested in ``edge_agent/``."""
from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path

import pytest

from chalicelib.adapters import fifo_queues, storage
from chalicelib.config import settings
from chalicelib.models.cards import Card, CardPrinter, PrintJob
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.cards import binding, checkin, printers, printing, results, sites
from chalicelib.services.documents.checkin import CheckinRefused
from chalicelib.services.shared.actors import Actor
from tests.api.helpers import call
from tests.cards_world import CardWorld, SiteAgent, deliver, later
from tests.conftest import new_tenant_id

ROOT = Path(__file__).resolve().parents[2]
UID = "04A1B2C3D4E5F6"


@pytest.fixture
def cards(actor):
    return CardWorld(actor)


def stored(actor, job) -> PrintJob:
    return PrintJob.get(actor.tenant_id, job.id, consistent_read=True)


def refused(actor, performance_id, **card) -> str:
    with pytest.raises(CheckinRefused) as error:
        checkin.check_in_card(actor, performance_id, **card)
    return error.value.reason


def test_a_print_sends_one_fifo_message_in_the_protocol_s_shape_with_its_faces(actor, cards):
    from PIL import Image

    subscription = cards.sell()
    job = printing.print_card(actor, subscription.id, cards.printer.id)
    [message] = SiteAgent(cards.site).receive()
    body, attributes = message["body"], message["attributes"]
    assert attributes["MessageGroupId"] == cards.printer.id
    assert attributes["MessageDeduplicationId"] == job.id
    assert (body["v"], body["type"], body["tenant_id"], body["site_id"], body["printer_id"], body["job_id"],
            body["encode"]) == (1, "print_card", actor.tenant_id, cards.site.id, cards.printer.id, job.id, True)
    assert body["card"] == {"holder": "Jeanne Martin", "subscription_id": subscription.id, "season": "2026-2027"}
    assert body["front"]["key"] == f"{actor.tenant_id}/{cards.site.id}/{job.id}/front.png"
    assert body["front"]["bucket"] == settings.card_images_bucket
    for face in (body["front"], body["back"]):
        png = urllib.request.urlopen(face["url"]).read()  # the presigned URL, as the agent reads it
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1016, 648)
        assert [round(value) for value in image.info["dpi"]] == [300, 300]
    assert stored(actor, job).sent_at is not None and stored(actor, job).state == "queued"
    assert printers.get_printer(actor, cards.printer.id).queue_length == 1


def test_the_venue_s_logo_is_printed_on_the_front_and_what_is_not_an_image_is_refused(actor, cards, client,
                                                                                      signer):
    import base64

    from PIL import Image

    from chalicelib.errors import InvalidInput

    logo = io.BytesIO()
    Image.new("RGB", (300, 150), (0, 160, 60)).save(logo, format="JPEG")
    admin = actor.__class__(actor.tenant_id, "admin-1", frozenset({"admin"}))
    site = sites.set_logo(admin, cards.site.id, base64.b64encode(logo.getvalue()).decode())
    assert site.has_logo
    printing.print_card(actor, cards.sell().id, cards.printer.id)
    [message] = SiteAgent(cards.site).receive()
    front = Image.open(io.BytesIO(urllib.request.urlopen(message["body"]["front"]["url"]).read())).convert("RGB")
    red, green, blue = front.getpixel((56 + 100, 75))  # inside the logo, in the band at the top
    assert green > 120 and red < 60 and blue < 100
    assert front.getpixel((900, 20)) != front.getpixel((56 + 100, 75))  # the band itself is not the logo

    for refused_image in ("not base64!", base64.b64encode(b"GIF89a not a logo").decode()):
        with pytest.raises(InvalidInput) as refusal:
            sites.set_logo(admin, cards.site.id, refused_image)
        assert refusal.value.errors[0].field == "image_base64"
    headers = {"Authorization": f"Bearer {signer.mint(actor.tenant_id, ['admin'], 'admin-1')}"}
    status, problem, _ = call(client, "PUT", f"/card-sites/{cards.site.id}/logo", headers,
                              {"image_base64": base64.b64encode(b"%PDF-1.4").decode()})
    assert status == 422 and problem["errors"][0]["field"] == "image_base64"


def test_results_apply_in_state_order_whatever_their_duplicates_and_order(actor, cards, pump):
    subscription = cards.sell()
    job = printing.print_card(actor, subscription.id, cards.printer.id)
    agent = SiteAgent(cards.site)
    agent.send(agent.result(job, "printed", uid=UID, at=later(2)))  # overtook its "taken"
    deliver(pump)
    agent.send(agent.result(job, "taken", at=later(1)), agent.result(job, "printed", uid=UID, at=later(2)),
               agent.result(job, "failed", reason="feeder_empty", at=later(3)))
    deliver(pump)
    printed = stored(actor, job)
    assert (printed.state, printed.uid, printed.reason, printed.card_id) == ("printed", UID, None, job.id)
    [card] = binding.cards_of_subscription(actor, subscription.id)
    assert (card.uid, card.state, card.subscription_ids) == (UID, "active", [subscription.id])
    assert printers.get_printer(actor, cards.printer.id).queue_length == 0


def test_the_same_result_applied_twice_changes_nothing(actor, cards):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    agent = SiteAgent(cards.site)
    taken = json.dumps(agent.result(job, "taken", at=later(1)))
    assert results.apply_message(taken) == "taken"
    version = stored(actor, job).version
    assert results.apply_message(taken) == "ignored"
    assert stored(actor, job).version == version
    failed = json.dumps(agent.result(job, "failed", reason="ribbon_ended", at=later(2)))
    assert [results.apply_message(failed) for _ in range(2)] == ["failed", "ignored"]
    assert (stored(actor, job).state, stored(actor, job).reason) == ("failed", "ribbon_ended")


def test_a_bad_signature_or_another_tenant_s_site_is_dropped(actor, cards, pump):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    forger = SiteAgent(cards.site, key="0" * 64)
    assert results.apply_message(json.dumps(forger.result(job, "printed", uid=UID))) == "dropped"
    honest = SiteAgent(cards.site)
    altered = honest.result(job, "taken")
    altered["outcome"] = "printed"
    assert results.apply_message(json.dumps(altered)) == "dropped"
    # An agent signs with its own site's key but names another venue: the site is not that tenant's.
    elsewhere = honest.result(job, "printed", uid=UID, tenant_id=new_tenant_id())
    assert results.apply_message(json.dumps(elsewhere)) == "dropped"
    # Another site's agent (its own key) cannot report for this site's job.
    other_site = CardWorld(actor).site
    stranger = SiteAgent(other_site).result(job, "printed", uid=UID, site_id=other_site.id)
    assert results.apply_message(json.dumps(stranger)) == "dropped"
    honest.send(forger.result(job, "printed", uid=UID), {"not": "a message"})
    deliver(pump)  # dropped messages are acknowledged, not retried
    assert stored(actor, job).state == "queued"
    assert binding.cards_of_subscription(actor, job.subscription_id) == []


def test_a_failing_message_is_a_batch_item_failure_and_the_others_are_applied(actor, cards, monkeypatch):
    first = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    second = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    agent = SiteAgent(cards.site)
    original = results.apply_result

    def throttled(result):
        if result.job_id == first.id:
            raise RuntimeError("ProvisionedThroughputExceeded")
        return original(result)

    monkeypatch.setattr(results, "apply_result", throttled)
    from chalicelib.handlers import cards as card_routes

    records = [{"messageId": message_id, "receiptHandle": message_id, "body": json.dumps(agent.result(job, "taken")),
                "attributes": {}, "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:eu-west-3:1:card-results"}
               for message_id, job in (("m1", first), ("m2", second))]
    answer = card_routes.on_card_results({"Records": records}, None)  # as Lambda calls it
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert (stored(actor, first).state, stored(actor, second).state) == ("queued", "taken")


def test_a_uid_already_in_the_venue_is_refused_and_the_job_flagged(actor, cards):
    agent = SiteAgent(cards.site)
    first = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    second = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    results.apply_message(json.dumps(agent.result(first, "printed", uid=UID)))
    assert results.apply_message(json.dumps(agent.result(second, "printed", uid=UID))) == "printed"
    flagged = stored(actor, second)
    assert (flagged.state, flagged.flags, flagged.card_id) == ("printed", ["uid_conflict"], None)
    assert binding.cards_of_subscription(actor, second.subscription_id) == []
    assert binding.card_by_uid(actor.tenant_id, UID).subscription_ids == [first.subscription_id]
    # Another venue's card may have the same UID: uniqueness is per venue.
    other = Actor(new_tenant_id(), "staff-2", frozenset({"staff"}))
    other_cards = CardWorld(other)
    other_job = printing.print_card(other, other_cards.sell().id, other_cards.printer.id)
    results.apply_message(json.dumps(SiteAgent(other_cards.site).result(other_job, "printed", uid=UID)))
    assert stored(other, other_job).flags is None and binding.card_by_uid(other.tenant_id, UID) is not None


def test_a_card_admits_its_holder_and_a_revoked_or_unknown_one_is_refused(actor, cards):
    subscription = cards.sell()
    job = printing.print_card(actor, subscription.id, cards.printer.id)
    results.apply_message(json.dumps(SiteAgent(cards.site).result(job, "printed", uid=UID)))
    evening, matinee = cards.performances
    ticket = checkin.check_in_card(actor, matinee.id, uid="04:a1:b2:c3:d4:e5:f6")
    assert (ticket.order_id, ticket.position, ticket.performance_id) == (subscription.order_id, 2, matinee.id)
    assert checkin.check_in_card(actor, evening.id, code=printing.card_code(actor.tenant_id, job.id)).position == 1
    assert refused(actor, cards.world.other_performance.id, uid=UID) == "not_for_this_performance"
    assert refused(actor, evening.id, uid="04FFFFFFFFFFFF") == "unknown"
    assert refused(Actor(new_tenant_id(), "door"), evening.id, uid=UID) == "unknown"
    binding.revoke_card(actor, job.id, reason="perdue")
    assert refused(actor, evening.id, uid=UID) == "revoked"
    assert refused(actor, evening.id, code=printing.card_code(actor.tenant_id, job.id)) == "revoked"


def test_a_new_card_after_a_revoked_one_counts_as_a_duplicate(actor, cards):
    agent = SiteAgent(cards.site)
    subscription = cards.sell()
    first = printing.print_card(actor, subscription.id, cards.printer.id)
    results.apply_message(json.dumps(agent.result(first, "printed", uid=UID)))
    binding.revoke_card(actor, first.id, reason="volée")
    second = printing.print_card(actor, subscription.id, cards.printer.id)
    results.apply_message(json.dumps(agent.result(second, "printed", uid="04000000000002")))
    assert Subscription.get(actor.tenant_id, subscription.id).duplicates_issued == 1
    assert checkin.check_in_card(actor, cards.performances[0].id, uid="04000000000002").position == 1
    assert refused(actor, cards.performances[0].id, uid=UID) == "revoked"


def test_heartbeats_show_the_printer_s_state_and_an_older_one_is_ignored(actor, cards):
    agent = SiteAgent(cards.site)
    assert results.apply_message(json.dumps(agent.heartbeat(cards.printer, "error", at=later(5),
                                                            reasons=["feeder_empty"], ribbon=80))) == "heartbeat"
    assert results.apply_message(json.dumps(agent.heartbeat(cards.printer, "ready", at=later(4), ribbon=90))) == "stale"
    shown = printers.get_printer(actor, cards.printer.id)
    assert (shown.state, shown.reasons, shown.ribbon_remaining) == ("error", ["feeder_empty"], 80)
    assert shown.last_contact_at is not None
    results.apply_message(json.dumps(agent.heartbeat(cards.printer, "warning", at=later(6), reasons=["ribbon_low"],
                                                     ribbon=9)))
    assert CardPrinter.get(actor.tenant_id, cards.printer.id).state == "warning"


def test_cancelling_a_queued_job_leaves_the_marker_the_agent_looks_for(actor, cards):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    asked = printing.cancel_print_job(actor, job.id)
    assert asked.state == "queued" and asked.cancel_requested_at is not None
    marker = f"{actor.tenant_id}/{cards.site.id}/cancelled/{job.id}"
    assert storage.exists(settings.card_images_bucket, marker)
    agent = SiteAgent(cards.site)
    assert results.apply_message(json.dumps(agent.result(job, "cancelled"))) == "cancelled"
    assert stored(actor, job).state == "cancelled"
    with pytest.raises(Exception) as error:
        printing.cancel_print_job(actor, job.id)
    assert error.value.status == 409
    # A new card may now be printed for the subscription.
    assert printing.print_card(actor, job.subscription_id, cards.printer.id).id != job.id


def test_a_cancel_too_late_shows_the_card_printed(actor, cards):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    printing.cancel_print_job(actor, job.id)
    agent = SiteAgent(cards.site)
    results.apply_message(json.dumps(agent.result(job, "taken", at=later(1))))
    results.apply_message(json.dumps(agent.result(job, "printed", uid=UID, at=later(2))))
    assert (stored(actor, job).state, stored(actor, job).flags) == ("printed", ["cancel_too_late"])


def test_a_card_printed_from_a_message_the_app_did_not_know_it_sent_outranks_its_cancel(actor, cards, monkeypatch):
    """The Lambda dies between sending the print message and recording it sent; staff cancel the
    job, which the app ends itself (no message may come back, it believes), but the agent had
    the message and printed the card before the cancel's marker existed. The card exists: the
    job shows it printed, flagged cancel too late, and the card admits its holder."""
    real_send = fifo_queues.send_fifo

    def sent_then_died(*args, **kwargs):
        real_send(*args, **kwargs)
        raise RuntimeError("the Lambda died after sending")

    monkeypatch.setattr(fifo_queues, "send_fifo", sent_then_died)
    subscription = cards.sell()
    with pytest.raises(RuntimeError):
        printing.print_card(actor, subscription.id, cards.printer.id)
    monkeypatch.setattr(fifo_queues, "send_fifo", real_send)
    agent = SiteAgent(cards.site)
    [message] = agent.receive()  # on its way to the printer
    job = PrintJob.get(actor.tenant_id, message["body"]["job_id"], consistent_read=True)
    assert job.sent_at is None
    assert printing.cancel_print_job(actor, job.id).state == "cancelled"

    results.apply_message(json.dumps(agent.result(job, "taken", at=later(1))))
    assert results.apply_message(json.dumps(agent.result(job, "printed", uid=UID, at=later(2)))) == "printed"
    shown = stored(actor, job)
    assert (shown.state, shown.flags, shown.card_id) == ("printed", ["cancel_too_late"], job.id)
    assert checkin.check_in_card(actor, cards.performances[0].id, uid=UID).order_id
    # the same result again, or the agent's late "cancelled", moves nothing
    assert results.apply_message(json.dumps(agent.result(job, "printed", uid=UID, at=later(2)))) == "ignored"
    assert results.apply_message(json.dumps(agent.result(job, "cancelled", at=later(3)))) == "ignored"
    assert stored(actor, job).state == "printed"


def test_a_failed_result_after_the_apps_own_cancel_leaves_it_cancelled(actor, cards, monkeypatch):
    """No card was made: the cancel stands."""
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    job.update(actions=[PrintJob.sent_at.remove()], add_version_condition=False)  # as if the record was lost
    printing.cancel_print_job(actor, job.id)
    agent = SiteAgent(cards.site)
    assert results.apply_message(json.dumps(agent.result(job, "failed", reason="feeder_empty", at=later(1)))) == "ignored"
    assert stored(actor, job).state == "cancelled"


def test_an_uncertain_job_is_marked_printed_with_the_uid_read_or_printed_again(actor, cards):
    agent = SiteAgent(cards.site)
    first = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    results.apply_message(json.dumps(agent.result(first, "uncertain", uid=UID, reason="interrupted_while_printing")))
    assert (stored(actor, first).state, stored(actor, first).uid) == ("uncertain", UID)
    printing.resolve_uncertain(actor, first.id, decision="printed")
    resolved = stored(actor, first)
    assert (resolved.state, resolved.flags, resolved.card_id) == ("printed", ["resolved_by_staff"], first.id)
    assert checkin.check_in_card(actor, cards.performances[0].id, uid=UID).order_id
    second = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    results.apply_message(json.dumps(agent.result(second, "uncertain", reason="interrupted_while_printing")))
    with pytest.raises(Exception) as error:
        printing.resolve_uncertain(actor, second.id, decision="printed")
    assert error.value.status == 422  # no UID was read, none given
    agent.receive()
    replaced = printing.resolve_uncertain(actor, second.id, decision="reprint")
    [message] = agent.receive()
    assert message["body"]["job_id"] == replaced.replaced_by != second.id
    assert message["body"]["card"]["subscription_id"] == second.subscription_id


def test_a_card_is_read_by_its_id_in_its_venue_only_and_jobs_name_their_holders(actor, cards):
    from chalicelib.errors import NotFound

    job = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    other = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    results.apply_message(json.dumps(SiteAgent(cards.site).result(job, "printed", uid=UID)))
    card = binding.get_card(actor, job.id)
    assert (card.uid, card.state, card.subscription_ids) == (UID, "active", [job.subscription_id])
    with pytest.raises(NotFound):
        binding.get_card(Actor(new_tenant_id(), "someone"), job.id)
    assert printing.holder_names(actor, [job.holder_contact_id, other.holder_contact_id]) == {job.holder_contact_id: "Ana Martin",
                                                          other.holder_contact_id: "Bea Martin"}
    assert printing.holder_names(actor, []) == {}


def test_a_uid_given_by_staff_for_an_uncertain_job_is_kept_upper_case_as_agents_write_it(actor, cards):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    results.apply_message(json.dumps(SiteAgent(cards.site).result(job, "uncertain", reason="interrupted_while_printing")))
    printing.resolve_uncertain(actor, job.id, decision="printed", uid=UID.lower())
    assert stored(actor, job).uid == UID and binding.card_by_uid(actor.tenant_id, UID).id == job.id


def test_a_printer_is_silent_once_its_agent_said_nothing_for_the_alarm_s_time(actor, cards, monkeypatch):
    from datetime import timedelta

    from chalicelib.adapters import clock
    from chalicelib.services.cards.silence import SILENT_AFTER

    assert not printers.get_printer(actor, cards.printer.id).silent  # never heard: its agent is not installed yet
    results.apply_message(json.dumps(SiteAgent(cards.site).heartbeat(cards.printer, "ready", at=later(1))))
    heard = printers.get_printer(actor, cards.printer.id)
    assert not heard.silent
    monkeypatch.setattr(clock, "now", lambda: heard.last_contact_at + SILENT_AFTER + timedelta(seconds=1))
    assert printers.get_printer(actor, cards.printer.id).silent
    printers.change_printer(actor, cards.printer.id, {"active": False})
    assert not printers.get_printer(actor, cards.printer.id).silent  # out of service: nobody waits for it


@pytest.mark.parametrize("crash_at", ["send", "mark_sent"])
def test_a_crash_between_the_job_and_its_message_then_a_retry_makes_one_job_and_one_message(
        actor, cards, monkeypatch, crash_at):
    subscription = cards.sell()
    original = fifo_queues.send_fifo

    def crash(*args, **kwargs):
        if crash_at == "mark_sent":
            original(*args, **kwargs)  # the message went out; the crash is before sent_at is written
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(fifo_queues, "send_fifo", crash)
    with pytest.raises(RuntimeError):
        printing.print_card(actor, subscription.id, cards.printer.id)
    monkeypatch.setattr(fifo_queues, "send_fifo", original)
    [job] = printing.jobs_of_subscription(actor, subscription.id)
    assert job.sent_at is None
    again = printing.print_card(actor, subscription.id, cards.printer.id)  # staff press "print" again
    assert again.id == job.id and len(printing.jobs_of_subscription(actor, subscription.id)) == 1
    messages = SiteAgent(cards.site).receive()
    assert [message["body"]["job_id"] for message in messages] == [job.id]  # SQS dropped the second send
    assert stored(actor, job).sent_at is not None
    with pytest.raises(printing.PrintRefused):
        printing.print_card(actor, subscription.id, cards.printer.id)  # sent and open: one card at a time


def test_a_site_s_agent_config_is_the_agents_own_format_with_its_queues_key_and_printers(actor, cards, tmp_path):
    """The file staff download is read by the agent's own configuration parser (edge_agent/)."""
    import sys

    sys.path.insert(0, str(ROOT / "edge_agent" / "src"))
    try:
        from edge_agent import config as agent_config
    finally:
        sys.path.remove(str(ROOT / "edge_agent" / "src"))
    SiteAgent(cards.site)  # the results queue exists (the stack's, in AWS)
    written = tmp_path / "agent.toml"
    written.write_text(sites_config(actor, cards), encoding="utf-8")
    loaded = agent_config.load(written)
    assert (loaded.tenant_id, loaded.site_id, loaded.region) == (actor.tenant_id, cards.site.id, settings.aws_region)
    assert loaded.print_queue_url.endswith(cards.site.queue_name)
    assert loaded.results_queue_url.endswith(settings.card_results_queue)
    assert loaded.agent_key == bytes.fromhex(sites_config_key(cards)) and len(loaded.agent_key) == 32
    [printer] = loaded.printers
    assert (printer.printer_id, printer.driver, printer.device, printer.encoder) == (
        cards.printer.id, "evolis", "Evolis Primacy 2", True)
    assert loaded.journal_path == tmp_path / "journal.sqlite3"


def sites_config(actor, cards) -> str:
    from chalicelib.services.cards import sites

    return sites.agent_config(actor, cards.site.id)


def sites_config_key(cards) -> str:
    from chalicelib.services.cards import protocol

    return protocol.agent_key(cards.site)


def test_cards_are_tenant_first(actor, cards):
    job = printing.print_card(actor, cards.sell().id, cards.printer.id)
    results.apply_message(json.dumps(SiteAgent(cards.site).result(job, "printed", uid=UID)))
    assert Card.get(actor.tenant_id, job.id).holder_key.startswith(f"{actor.tenant_id}#")


def test_a_site_s_print_queue_redrives_to_the_stack_s_dead_letters(actor, monkeypatch):
    """In AWS the stack gives the print dead-letter queue (PRINT_DEAD_LETTERS_QUEUE_ARN): a message
    an agent keeps failing on ends there, where the alarm on its depth sees it."""
    import dataclasses

    from chalicelib.adapters.aws import client

    sqs = client("sqs")
    sqs.create_queue(QueueName=settings.card_results_queue)  # the stack's, in AWS
    dead_url = sqs.create_queue(QueueName=f"dead-{new_tenant_id()}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setattr(sites, "settings", dataclasses.replace(sites.settings, print_dead_letters_queue_arn=dead_arn))
    admin = actor.__class__(actor.tenant_id, "admin-1", frozenset({"admin"}))
    site = sites.register_site(admin, {"name": "Guichet nord"})
    url = sqs.get_queue_url(QueueName=site.queue_name)["QueueUrl"]
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                         ["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dead_arn and int(redrive["maxReceiveCount"]) == 50
    sites.agent_config(admin, site.id)  # asking again for the configuration re-creates the same queue: no error


def test_a_print_queue_made_before_the_dead_letters_existed_gets_its_redrive_when_ensured(actor, monkeypatch):
    """A site registered before the stack gave PRINT_DEAD_LETTERS_QUEUE_ARN has a queue without a
    redrive: CreateQueue with the redrive would refuse it (other attributes). Ensuring the queue
    (its agent's configuration downloaded again) sets the redrive on it instead."""
    import dataclasses

    from chalicelib.adapters.aws import client

    sqs = client("sqs")
    sqs.create_queue(QueueName=settings.card_results_queue)
    admin = actor.__class__(actor.tenant_id, "admin-1", frozenset({"admin"}))
    site = sites.register_site(admin, {"name": "Guichet ancien"})  # no dead-letter queue in this stack yet
    url = sqs.get_queue_url(QueueName=site.queue_name)["QueueUrl"]
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    dead_url = sqs.create_queue(QueueName=f"dead-{new_tenant_id()}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setattr(sites, "settings", dataclasses.replace(sites.settings, print_dead_letters_queue_arn=dead_arn))
    assert site.id in sites.agent_config(admin, site.id)
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                         ["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dead_arn
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"])["Attributes"]["FifoQueue"] == "true"
