"""The CSV export's cells, lines and cursor, without AWS (the job itself: tests/integration)."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone

from chalicelib.models.orders import OrderListing
from chalicelib.services.jobs import csv_files
from chalicelib.services.jobs.framework import MAX_STATE_CHARS
from chalicelib.services.orders import export as order_export


def test_amounts_are_french_decimals_that_excel_reads_as_numbers():
    assert csv_files.french_amount(5300, "EUR") == "53,00"
    assert csv_files.french_amount(4250, "EUR") == "42,50"
    assert csv_files.french_amount(123456789, "EUR") == "1234567,89"  # no grouping: still a number
    assert csv_files.french_amount(5, "EUR") == "0,05"
    assert csv_files.french_amount(-250, "EUR") == "-2,50"
    assert csv_files.french_amount(1500, "JPY") == "1500"


def test_dates_are_on_the_paris_clock_in_winter_and_summer():
    assert csv_files.local_time(datetime(2026, 11, 22, 13, 5, tzinfo=timezone.utc), "Europe/Paris") == \
        "22/11/2026 14:05"
    assert csv_files.local_time(datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc), "Europe/Paris") == \
        "02/07/2026 00:30"
    assert csv_files.local_time(None, "Europe/Paris") == ""


def test_cells_that_would_run_as_formulas_are_neutralised():
    for text in ('=HYPERLINK("http://x")', "+33 1 23", "-1+1", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_files.neutralised(text) == "'" + text
    assert csv_files.neutralised("Lefèvre") == "Lefèvre"
    assert csv_files.neutralised("a=b") == "a=b"
    assert csv_files.neutralised(None) == ""


def _entry(**columns) -> OrderListing:
    values = dict(tenant_id="t", order_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", number=42,
                  created_at=datetime(2026, 11, 22, 13, 5, tzinfo=timezone.utc), kind="reservation",
                  status="partially_complete", buyer_name="Élodie Lefèvre", buyer_email="elodie@exemple.fr",
                  payment_type="invoice", promo_code="NOEL", total_cents=4250, currency="EUR", ticket_count=3,
                  deadline=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc))
    values.update(columns)
    return OrderListing(facet_key="k", sort_key="s", **values)


def test_a_row_holds_every_column_of_the_list_in_french():
    assert order_export.row(_entry(), "Europe/Paris") == [
        "42", "22/11/2026 14:05", "Élodie Lefèvre", "elodie@exemple.fr", "Partiellement complète", "Facture",
        "NOEL", "42,50", "EUR", "3", "réservation", "01/12/2026 10:30"]
    assert len(order_export.HEADER) == len(order_export.row(_entry(), "Europe/Paris"))


def test_the_deadline_column_is_filled_for_options_and_reservations_only():
    """Issue 12.10: a card checkout sale holds a deadline (its hold time) but has none to show."""
    held_until = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    card_sale = _entry(kind="sale", status="complete", payment_type="card", deadline=held_until)
    option = _entry(kind="option", status="unpaid", payment_type="cheque", deadline=held_until)
    reservation = _entry(deadline=held_until)

    assert card_sale.deadline == held_until  # the input really carries a deadline
    cells = dict(zip(order_export.HEADER, order_export.row(card_sale, "Europe/Paris")))
    assert (cells["Type"], cells["Type de paiement"], cells["Date limite"]) == ("vente", "Carte bancaire", "")
    for entry, kind in ((option, "option"), (reservation, "réservation")):
        cells = dict(zip(order_export.HEADER, order_export.row(entry, "Europe/Paris")))
        assert (cells["Type"], cells["Date limite"]) == (kind, "01/12/2026 10:30")


def test_lines_are_semicolon_separated_crlf_and_quoted_where_needed():
    encoder = csv_files.CsvEncoder()
    awkward = 'Dupont; "Jo"\nDurand'
    line = encoder.line(order_export.row(_entry(buyer_name=awkward, promo_code=None), "Europe/Paris"))
    assert line.endswith(b"\r\n") and line.count(b"\r\n") == 1  # the newline inside the quoted cell stays
    assert list(csv.reader(io.StringIO(line.decode("utf-8"), newline=""), delimiter=";"))[0][2] == awkward
    start = csv_files.file_start(encoder, order_export.HEADER)
    assert start.startswith(b"\xef\xbb\xbf") and start.decode("utf-8-sig") == ";".join(order_export.HEADER) + "\r\n"


def test_etags_are_stored_compactly_and_read_back():
    etags = [f'"{hashlib.md5(str(n).encode()).hexdigest()}"' for n in range(5)]
    compact = "".join(csv_files.compact_etag(etag) for etag in etags)
    assert len(compact) == 5 * csv_files.ETAG_CHARS
    assert csv_files.etags_of(compact) == etags


def test_the_cursor_of_the_largest_export_fits_the_jobs_limit():
    etag = csv_files.compact_etag('"' + "f" * 32 + '"')
    cursor = csv_files.FileState(upload_id="u" * 200, etags=etag * csv_files.MAX_PARTS, rows=40_000_000,
                                      position={"page": "p" * 600, "offset": 499}).cursor()
    assert len(json.dumps(cursor)) < MAX_STATE_CHARS
    assert csv_files.FileState.of(cursor).cursor() == cursor


def test_parts_grow_so_that_the_parts_hold_over_five_gigabytes():
    assert csv_files.part_size(1) == csv_files.part_size(250) == 5 * 1024 * 1024
    assert csv_files.part_size(251) == 10 * 1024 * 1024
    capacity = sum(csv_files.part_size(n) for n in range(1, csv_files.MAX_PARTS + 1))
    assert capacity > 5 * 1024 ** 3


def test_the_stack_has_a_private_expiring_exports_bucket():
    from infra.template import storage_resources

    bucket = storage_resources()["ExportsBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "ticketing-test-exports-${AWS::AccountId}-${AWS::Region}"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rule, = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 7 and rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
