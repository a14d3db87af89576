"""Customer screens: one search box finding a customer by anything in their record (the API's
search: names, e-mail, phone in any writing, postcode, city, customer or order number), and the
customer record's sections as the API's record route shapes them (details, bookings sorted by any
column the API sorts by and paged, credit, donations, mailing lists, segments, changes, each
history paged on its own page); the edit of personal data, addresses, phones and e-mails through
the API's contact edit (system-filled fields and delivery facts shown, never in the form); merging
a duplicate into the record after a summary of what moves; and privacy requests (the JSON of
everything held on the person, erasure after a confirmation), admin only as on the API."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.handlers.console.frame import (
    PAGE_SIZE,
    Refusal,
    Screen,
    console_route,
    form_body,
    paging_link,
    refusal_of,
)

bp = Blueprint(__name__)
# The booking columns, each with the API's sort (customers:BookingQuery) and its heading.
BOOKING_COLUMNS = (("number", "N°", "No."), ("date", "Passée le", "Placed"), ("show", "Spectacle", "Show"),
                   ("performance_date", "Séance", "Performance"), ("status", "Statut", "Status"),
                   ("total", "Total", "Total"), ("balance_due", "Reste dû", "Balance due"))
# The form's lists: each row's fields, and those a row must have one of to be more than blank.
LISTS = {"emails": (("address", "newsletter_consent"), ("address",)),
         "phones": (("number", "kind"), ("number",)),
         "addresses": (("kind", "line1", "line2", "postcode", "city", "country"), ("line1", "line2", "postcode", "city"))}
PERSONAL = ("title", "first_name", "last_name", "language")
MAX_ROWS = 10  # as the API's ContactPatch allows
MAX_CRITERIA = 100  # as the API's ContactPatch allows
BLANK_CRITERIA = 2  # rows offered to add criteria
SHOWN_FIELDS = ("title", "first_name", "last_name", "language", "contact_type", "emails", "phones", "addresses",
                "criteria", "system_fields", "merged_into")


@console_route(bp, "/console/customers")
def customers_search(screen: Screen):
    query, found = _search(screen)
    return screen.page("customers.html.j2", q=query.q if query else None, customers=found.items if found else [],
                       next_link=paging_link(screen, found.next_cursor) if found else None)


def _search(screen: Screen, *, leave_out: str | None = None):
    """The API's search for ``?q=`` (``None`` twice when nothing was typed)."""
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.contacts import search

    asked = screen.query("q")
    if not asked:
        return None, None
    query = parse_query({"q": asked, "limit": str(PAGE_SIZE)}, "contacts:ContactSearch")
    page = search.search_contacts(screen.actor, query.q, limit=query.limit, cursor=screen.query("cursor"))
    if leave_out:
        page.items = [contact for contact in page.items if contact.id != leave_out]
    return query, page


def _record(screen: Screen, contact_id: str) -> Any:
    from chalicelib.handlers import customers
    from chalicelib.handlers.http import schema

    return schema("customers:RecordOut").model_validate(customers.customer_record(screen.actor, contact_id))


@console_route(bp, "/console/customers/{contact_id}")
def customer_record(screen: Screen, contact_id: str):
    from chalicelib.handlers import customers
    from chalicelib.handlers.http import parse_query, schema
    from chalicelib.services.contacts import contacts

    record = _record(screen, contact_id)
    stored = contacts.get_contact(screen.actor, contact_id)  # whether it is being erased: not in the API's record
    merged_into = contacts.get_contact(screen.actor, stored.merged_into) if stored.merged_into else None
    asked = {name: value for name in ("sort", "direction") if (value := screen.query(name))}
    if cursor := screen.query("cursor"):
        asked["cursor"] = cursor
    query = parse_query({**asked, "limit": str(PAGE_SIZE)}, "customers:BookingQuery")
    page = customers.customer_bookings(screen.actor, contact_id, query)
    bookings = [schema("customers:BookingOut").model_validate(row) for row in page.items]
    return screen.page("customer.html.j2", record=record, merged_into=merged_into, bookings=bookings,
                       erased_at=stored.erased_at or stored.erasure_started_at,
                       columns=_booking_columns(screen, contact_id, query),
                       next_link=paging_link(screen, page.next_cursor),
                       changes=[_change(event) for event in record.changes.items], done=screen.query("done"),
                       list_names=_list_names(screen, record.mailing_lists),
                       joinable=_joinable_lists(screen, record.mailing_lists))


def _joinable_lists(screen: Screen, memberships) -> list:
    """The venue's lists the contact is not on now (the first 100: a venue has a few)."""
    from chalicelib.services.contacts import mailing_lists

    member_of = {membership.list_id for membership in memberships if membership.member}
    return [found for found in mailing_lists.lists.list(screen.actor, limit=100, cursor=None).items
            if found.id not in member_of]


@console_route(bp, "/console/customers/{contact_id}/lists", methods=("POST",))
def customer_lists(screen: Screen, contact_id: str):
    """Join or leave a mailing list, with how the consent (or its withdrawal) was given: the
    API's join and leave (the membership keeps every change as the consent's proof)."""
    from chalicelib.errors import InvalidInput
    from chalicelib.services.contacts import mailing_lists

    change, list_id = screen.value("change", 10), screen.value("list_id", 64)
    if change not in ("join", "leave") or not list_id:
        raise InvalidInput.on("list_id", screen.say("choisissez une liste où inscrire ou d'où désinscrire",
                                                    "choose a list to join or leave"))
    how = form_body({"how": screen.value("how") or screen.say("au guichet", "at the box office")},
                    "contacts:MembershipChangeIn").how
    (mailing_lists.join if change == "join" else mailing_lists.leave)(screen.actor, contact_id, list_id, how=how)
    return screen.redirect(f"/console/customers/{contact_id}?done={'joined' if change == 'join' else 'left'}")


def _list_names(screen: Screen, memberships) -> dict[str, str]:
    """The names of the mailing lists of ``memberships`` (a contact's lists are few: one read each)."""
    from chalicelib.errors import NotFound
    from chalicelib.services.contacts import mailing_lists

    names = {}
    for membership in memberships:
        try:
            names[membership.list_id] = mailing_lists.lists.get(screen.actor, membership.list_id).name
        except NotFound:  # a list since deleted: named by its id
            names[membership.list_id] = membership.list_id
    return names


def _booking_columns(screen: Screen, contact_id: str, query) -> list[dict]:
    """Each column's heading, its sort state (for aria-sort) and the link sorting by it: the
    sorted column's link turns its direction, another column's sorts it ascending."""
    columns = []
    for sort, french, english in BOOKING_COLUMNS:
        current = query.sort == sort
        direction = ("asc" if query.direction == "desc" else "desc") if current else "asc"
        columns.append({"sort": sort, "label": screen.say(french, english),
                        "state": ("ascending" if query.direction == "asc" else "descending") if current else None,
                        "direction": direction,
                        "link": f"/console/customers/{contact_id}?" + urlencode({"sort": sort, "direction": direction})})
    return columns


def _change(event) -> dict:
    """One audit event as the record shows it: which of the record's fields it changed."""
    before, after = event.before or {}, event.after or {}
    fields = [name for name in SHOWN_FIELDS if before.get(name) != after.get(name) and (name in before or name in after)]
    return {"at": event.at, "action": event.action, "actor": event.actor, "fields": fields}


def _history(screen: Screen, contact_id: str, section: str, read) -> Response:
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.contacts import contacts

    contact = contacts.get_contact(screen.actor, contact_id)
    query = parse_query({"limit": str(PAGE_SIZE), **({"cursor": c} if (c := screen.query("cursor")) else {})},
                        "common:PageQuery")
    page = read(screen.actor, contact_id, query)
    return screen.page("customer_history.html.j2", contact=contact, section=section,
                       items=[_change(event) for event in page.items] if section == "changes" else page.items,
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/customers/{contact_id}/credit")
def customer_credit(screen: Screen, contact_id: str):
    from chalicelib.handlers import refunds

    return _history(screen, contact_id, "credit", refunds.credit_entries)


@console_route(bp, "/console/customers/{contact_id}/donations")
def customer_donations(screen: Screen, contact_id: str):
    from chalicelib.handlers import refunds

    return _history(screen, contact_id, "donations", refunds.donations)


@console_route(bp, "/console/customers/{contact_id}/changes")
def customer_changes(screen: Screen, contact_id: str):
    from chalicelib.handlers import audit

    return _history(screen, contact_id, "changes",
                    lambda actor, contact_id, query: audit.entity_history(actor, "contact", contact_id, query))


# -- edit ---------------------------------------------------------------------------------------


@console_route(bp, "/console/customers/{contact_id}/edit", methods=("GET", "POST"))
def customer_edit(screen: Screen, contact_id: str):
    from chalicelib.errors import DomainError
    from chalicelib.handlers.http import schema
    from chalicelib.services.contacts import contacts

    contact = contacts.get_contact(screen.actor, contact_id)
    if screen.request.method == "GET":
        contacts.refuse_closed(contact)
        return _edit_page(screen, contact, _draft_of(contact), {}, None)
    draft, patch = _typed(screen, contact)
    errors = _refusals(screen, patch, draft)
    if errors:
        return _edit_page(screen, contact, draft, errors, None, status=422)
    try:
        contacts.update_contact(screen.actor, contact_id,
                                schema("contacts:ContactPatch").model_validate(patch).model_dump(exclude_unset=True),
                                read_at_version=screen.read_at_version())
    except DomainError as refused:  # a duplicate e-mail, a record changed or closed meanwhile: said with the form
        return _edit_page(screen, contact, draft, _located(screen, refused.errors, draft), refusal_of(screen, refused),
                          status=refused.status)
    return screen.redirect(f"/console/customers/{contact_id}?done=edited")


def _edit_page(screen: Screen, contact, draft: dict, errors: dict, refusal: Refusal | None, status: int = 200):
    for name, (fields, _) in LISTS.items():  # one blank row to add one more
        if len(draft[name]) < MAX_ROWS:
            draft[name].append({field: "" for field in fields})
    blanks = min(BLANK_CRITERIA, MAX_CRITERIA - len(draft["criteria"]))
    draft["criteria"] = draft["criteria"] + [{"name": "", "value": "", "shown": ""} for _ in range(max(0, blanks))]
    from chalicelib.services.shared.audit import plain

    return screen.page("customer_edit.html.j2", status=status, contact=contact, draft=draft, errors=errors,
                       refusal=refusal, system_fields=plain(contact.system_fields) or {})


def _draft_of(contact) -> dict:
    """The form's values from the record as it stands."""
    return {"title": contact.title or "", "first_name": contact.first_name or "", "last_name": contact.last_name,
            "language": contact.language,
            "emails": [{"address": e.address, "newsletter_consent": bool(e.newsletter_consent)} for e in contact.emails],
            "phones": [{"number": p.number, "kind": p.kind} for p in contact.phones],
            "addresses": [{field: getattr(a, field) or "" for field in LISTS["addresses"][0]} for a in contact.addresses],
            "criteria": [{"name": name, "value": value, "shown": name}
                         for name, value in sorted(_criteria_of(contact).items())]}


def _criteria_of(contact) -> dict[str, str]:
    from chalicelib.services.shared.audit import plain

    return plain(contact.criteria) or {}


def _typed(screen: Screen, contact) -> tuple[dict, dict]:
    """What staff typed: the form's values to show again (``draft``, blank rows left out) and the
    API's edit request (``patch``: every list whole, its entries in the draft's order, so a
    refusal of ``phones.1.number`` is beside the draft's second phone; the criteria as the API
    merges them, a criterion of the record whose row was emptied removed). A field the form does
    not have (``system_fields``...) goes into the request as typed, for the API's schema to refuse."""
    draft = {name: screen.value(name) for name in PERSONAL}
    patch: dict[str, Any] = {name: draft[name] or None for name in PERSONAL}
    for name, (fields, filled) in LISTS.items():
        draft[name], patch[name] = [], []
        for row in range(MAX_ROWS + 1):
            typed: dict[str, Any] = {field: screen.value(f"{name}.{row}.{field}") for field in fields}
            if not any(typed[field] for field in filled):
                continue
            if name == "emails":
                typed["newsletter_consent"] = bool(typed["newsletter_consent"])
            draft[name].append(typed)
            patch[name].append({field: value for field, value in typed.items() if value not in ("", None)})
    draft["criteria"], criteria = _typed_criteria(screen, contact)
    if criteria:
        patch["criteria"] = criteria
    for name in screen.form:
        if (name not in ("form", "version") and name not in PERSONAL and name.split(".")[0] not in LISTS
                and not name.startswith("criteria.")):
            patch[name] = screen.value(name)
    return draft, patch


def _typed_criteria(screen: Screen, contact) -> tuple[list[dict], dict[str, str | None]]:
    """The criteria rows as typed, and the change the API merges: each named row's value (an
    empty value removes it), and ``None`` for a criterion the form showed whose row was emptied
    or renamed. A criterion the form did not show (written by another desk meanwhile) is left
    as it is: the API merges criteria, so the form changes only what it showed."""
    rows = []
    for row in range(MAX_CRITERIA + BLANK_CRITERIA):
        typed = {"name": screen.value(f"criteria.{row}.name", 100), "value": screen.value(f"criteria.{row}.value", 500),
                 "shown": screen.value(f"criteria.{row}.shown", 100)}
        if typed["name"] or typed["value"] or typed["shown"]:
            rows.append(typed)
    change: dict[str, str | None] = {row["shown"]: None for row in rows if row["shown"] and row["shown"] != row["name"]}
    change.update({row["name"]: row["value"] or None for row in rows if row["name"] or row["value"]})
    current = _criteria_of(contact)
    return rows, {name: value for name, value in change.items() if current.get(name) != value}


def _refusals(screen: Screen, patch: dict, draft: dict) -> dict[str, str]:
    """The API schema's refusals of ``patch``, each named by its field."""
    from pydantic import ValidationError

    from chalicelib.handlers.http import field_errors, schema

    try:
        schema("contacts:ContactPatch").model_validate(patch)
    except ValidationError as error:
        return _located(screen, field_errors(error), draft)
    return {}


def _located(screen: Screen, errors, draft: dict) -> dict[str, str]:
    """Field errors by the form's field: an entry refused whole (``emails.1``, an e-mail another
    record has) is said at its first field; a criterion (``criteria.<name>``, ``[key]`` for its
    name) at its row."""
    located = {}
    rows = {row["name"]: index for index, row in enumerate(draft.get("criteria", []))}
    for error in errors:
        parts = error.field.split(".")
        if parts[0] == "criteria" and len(parts) > 1:
            row = rows.get(parts[1])
            where = f"criteria.{row}.{'name' if parts[-1] == '[key]' else 'value'}" if row is not None else "criteria"
            located.setdefault(where, screen.field_message(error))
            continue
        if parts[0] in LISTS and len(parts) == 2:
            parts.append(LISTS[parts[0]][0][0])
        located.setdefault(".".join(parts), screen.field_message(error))
    return located


# -- merge --------------------------------------------------------------------------------------


@console_route(bp, "/console/customers/{contact_id}/merge")
def customer_merge_find(screen: Screen, contact_id: str):
    from chalicelib.services.contacts import contacts

    contact = contacts.get_contact(screen.actor, contact_id)
    contacts.refuse_closed(contact)
    query, found = _search(screen, leave_out=contact_id)
    return screen.page("customer_merge_find.html.j2", contact=contact, q=query.q if query else None,
                       customers=found.items if found else [],
                       next_link=paging_link(screen, found.next_cursor) if found else None)


@console_route(bp, "/console/customers/{contact_id}/merge/{other_id}", methods=("GET", "POST"))
def customer_merge(screen: Screen, contact_id: str, other_id: str):
    from chalicelib.handlers import customers
    from chalicelib.handlers.http import schema
    from chalicelib.services.customers import merge

    if screen.request.method == "GET":
        preview = merge.preview(screen.actor, contact_id, other_id)
        return screen.page("customer_merge.html.j2", preview=preview,
                           list_names=_list_names(screen, preview.mailing_lists))
    body = schema("customers:MergeIn").model_validate({"other_id": other_id})
    job = customers.merge_contacts(screen.actor, contact_id, body)
    return screen.redirect(f"/console/jobs/{job.id}")


# -- privacy ------------------------------------------------------------------------------------


@console_route(bp, "/console/customers/{contact_id}/personal-data", role="admin")
def customer_personal_data(screen: Screen, contact_id: str):
    from chalicelib.handlers import customers
    from chalicelib.handlers.http import schema

    held = schema("customers:PersonalDataOut").model_validate(customers.personal_data(screen.actor, contact_id))
    return Response(body=held.model_dump_json(indent=2), status_code=200, headers={
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": f'attachment; filename="personal-data-{contact_id}.json"'})


@console_route(bp, "/console/customers/{contact_id}/erase", methods=("GET", "POST"), role="admin")
def customer_erase(screen: Screen, contact_id: str):
    from pydantic import ValidationError

    from chalicelib.handlers import customers
    from chalicelib.handlers.http import schema
    from chalicelib.services.contacts import contacts

    contact = contacts.get_contact(screen.actor, contact_id)
    contacts.refuse_closed(contact)
    if screen.request.method == "GET":
        return screen.page("customer_erase.html.j2", contact=contact, reason="", errors={})
    reason = screen.value("reason", 300)
    try:
        body = schema("customers:EraseIn").model_validate({"reason": reason})
    except ValidationError as error:
        return screen.page("customer_erase.html.j2", status=422, contact=contact, reason=reason,
                           errors={"reason": error.errors(include_url=False)[0]["msg"]})
    job = customers.erase_person(screen.actor, contact_id, body)
    return screen.redirect(f"/console/jobs/{job.id}")
