"""Segment screens: the venue's segments (saved rules over the customer record: a criterion,
the language, a postcode's beginning, bought in a season, a subscriber, has credit, donated more
than an amount; every rule must hold, each may be negated), a segment created or changed through
the API's own schemas, and its members exported as a CSV file for Excel (a job, followed on its
page). The API asks for the staff role; so does the console."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.handlers.console.frame import Screen, console_route, form_body

bp = Blueprint(__name__)
ROOT = "/console/segments"
RULE_ROWS = 6  # rows a segment's form offers (the API takes up to 20 rules)
CHOICES = 100  # the seasons offered in a rule's list
# Each kind of rule, and the fields of its row that give its value (the row's other fields are ignored).
RULE_FIELDS = {"criterion": ("criterion_name", "criterion_value"), "language": ("language",),
               "postcode_prefix": ("prefix",), "bought_in_season": ("season_id",), "subscriber": (),
               "has_credit": (), "donated_more_than": ("amount",)}


@console_route(bp, ROOT)
def segments_list(screen: Screen):
    from chalicelib.services.customers import segments

    found = segments.segments.list(screen.actor, limit=CHOICES, cursor=None).items
    return screen.page("segments.html.j2", segments=found, seasons=_season_names(screen), done=screen.query("done"))


@console_route(bp, ROOT + "/new", methods=("GET", "POST"))
def segment_new(screen: Screen):
    from chalicelib.services.customers import segments

    return _segment_form(screen, None, lambda body: segments.segments.create(screen.actor, body))


@console_route(bp, ROOT + "/{segment_id}", methods=("GET", "POST"))
def segment_edit(screen: Screen, segment_id: str):
    from chalicelib.services.customers import segments

    segment = segments.segments.get(screen.actor, segment_id)
    return _segment_form(screen, segment, lambda body: segments.segments.update(
        screen.actor, segment_id, body, read_at_version=screen.read_at_version()))


@console_route(bp, ROOT + "/{segment_id}/export", methods=("POST",))
def segment_export(screen: Screen, segment_id: str):
    """The segment's members, as its rules stand now, written as a CSV file by a job."""
    from chalicelib.services.customers import segments

    job = segments.start_members_export(screen.actor, segment_id)
    return screen.redirect(f"/console/jobs/{job.id}")


def _segment_form(screen: Screen, segment, save):
    """The form of a new or existing segment; saved through the API's schema (``SegmentIn`` or
    ``SegmentPatch``), each refusal shown beside its field and what was typed kept."""
    from chalicelib.errors import ConcurrentChange, InvalidInput

    typed = _typed(screen) if screen.request.method == "POST" else _shown(segment)
    errors: dict[str, str] = {}
    if screen.request.method == "POST":
        try:
            body = form_body({"name": typed["name"], "description": typed["description"] or None,
                              "rules": _rules(screen, typed["rules"])},
                             "customers:SegmentIn" if segment is None else "customers:SegmentPatch")
            saved = save(body.model_dump(exclude_unset=True))
            return screen.redirect(f"{ROOT}/{saved.id}?done=saved")
        except InvalidInput as refused:
            errors = _by_row(screen, refused, typed["rules"])
        except ConcurrentChange:  # typed values kept; the form now carries the version saved meanwhile
            errors = {"name": screen.say("quelqu'un a modifié ce segment pendant que vous le modifiiez : relisez-le "
                                         "puis enregistrez de nouveau si votre saisie doit le remplacer",
                                         "someone changed this segment while you were editing it: read it again, "
                                         "then save again if what you typed should replace it")}
            return screen.page("segment.html.j2", status=409, segment=segment, typed=typed, errors=errors,
                               seasons=_season_names(screen), done=None, kinds=list(RULE_FIELDS))
    return screen.page("segment.html.j2", status=422 if errors else 200, segment=segment, typed=typed, errors=errors,
                       seasons=_season_names(screen), done=screen.query("done"), kinds=list(RULE_FIELDS))


def _shown(segment) -> dict:
    """The form's values from the segment as it stands (blank rows to add rules)."""
    rows = []
    for rule in list(segment.rules if segment else []):
        row = {"kind": rule["kind"], "negated": bool(rule.get("negated")), "criterion_name": rule.get("name") or "",
               "criterion_value": rule.get("value") or "", "language": rule.get("language") or "",
               "prefix": rule.get("prefix") or "", "season_id": rule.get("season_id") or "",
               "amount": _euros(rule.get("amount_cents"))}
        rows.append(row)
    rows += [_blank_row() for _ in range(max(0, RULE_ROWS - len(rows)))]
    return {"name": segment.name if segment else "", "description": (segment.description or "") if segment else "",
            "rules": rows}


def _blank_row() -> dict:
    return {"kind": "", "negated": False, "criterion_name": "", "criterion_value": "", "language": "", "prefix": "",
            "season_id": "", "amount": ""}


def _typed(screen: Screen) -> dict:
    rows = []
    for row in range(RULE_ROWS):
        typed = {field: screen.value(f"rules.{row}.{field}") for field in
                 ("kind", "criterion_name", "criterion_value", "language", "prefix", "season_id", "amount")}
        typed["negated"] = bool(screen.value(f"rules.{row}.negated", 3))
        rows.append(typed)
    return {"name": screen.value("name"), "description": screen.value("description"), "rules": rows}


def _rules(screen: Screen, rows: list[dict]) -> list[dict[str, Any]]:
    """The API's rules from the rows that name a kind (a row without one is left out); the amount
    typed in euros, the French or English way, for the schema in cents."""
    from chalicelib.values.cents import from_typed

    rules = []
    for row in rows:
        kind = row["kind"]
        if not kind:
            continue
        rule: dict[str, Any] = {"kind": kind, "negated": row["negated"]}
        if kind == "criterion":
            rule.update(name=row["criterion_name"], value=row["criterion_value"] or None)
        elif kind == "language":
            rule["language"] = row["language"]
        elif kind == "postcode_prefix":
            rule["prefix"] = row["prefix"]
        elif kind == "bought_in_season":
            rule["season_id"] = row["season_id"]
        elif kind == "donated_more_than":
            try:
                rule["amount_cents"] = from_typed(row["amount"])
            except ValueError:
                # As typed, for the schema to refuse on its row with the rows' other refusals (the
                # screen's ``hundredths`` would refuse it alone, before the schema reads the rest).
                rule["amount_cents"] = row["amount"]
        rules.append(rule)
    return rules


def _by_row(screen: Screen, refused, rows: list[dict]) -> dict[str, str]:
    """The refusal's messages by the form's fields: ``rules.<n>.<field>`` counts the rows that
    name a kind, as the request does; its value's field is the row's field for that kind."""
    named = [index for index, row in enumerate(rows) if row["kind"]]
    api_to_form = {"name": "criterion_name", "value": "criterion_value", "language": "language", "prefix": "prefix",
                   "season_id": "season_id", "amount_cents": "amount"}
    found: dict[str, str] = {}
    for error in refused.errors:
        parts = error.field.split(".")
        if parts[0] == "rules" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(named):
            row = named[int(parts[1])]
            field = next((api_to_form[part] for part in parts[2:] if part in api_to_form), "kind")
            found.setdefault(f"rules.{row}.{field}", screen.field_message(error))
        else:
            found.setdefault(parts[0], screen.field_message(error))
    return found


def _euros(cents) -> str:
    return f"{int(cents) / 100:.2f}".replace(".", ",") if cents is not None else ""


def _season_names(screen: Screen) -> dict[str, str]:
    from chalicelib.services.catalog import catalog

    return {season.id: season.name for season in catalog.seasons.list(screen.actor, limit=CHOICES, cursor=None).items}
