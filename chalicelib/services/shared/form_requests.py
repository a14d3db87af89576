"""A confirming form's request id: made with the summary staff read, it becomes the id of the
record the form asks for (a refund, a credit or donation, a subscription sale, a seat change),
so the form sent again (a reload, a double click, the back button) finds that record instead of
making a second one."""
from __future__ import annotations

from chalicelib.adapters import ids
from chalicelib.errors import FieldError, InvalidInput


def new_request_id() -> str:
    """The id a summary gives its confirming form: the record the form asks for will carry it."""
    return ids.new_id()


def checked_request_id(request_id: str) -> str:
    """``request_id`` if it is one :func:`new_request_id` could have made; 422 otherwise (a form
    not made by a summary, or edited)."""
    if not ids.is_id(request_id or ""):
        raise InvalidInput("This form has no valid request id; open its summary again.",
                           errors=[FieldError("request_id", "not an id")])
    return request_id
