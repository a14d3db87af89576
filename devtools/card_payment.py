"""Pay a checkout's PaymentIntent by card at localstripe, as the buyer's browser would with Stripe.js.

The shop's checkout answers a PaymentIntent (``pi_...``) for the buyer's browser to confirm. Locally
there is no browser and no Stripe.js, so this plays that part: it creates the card's PaymentMethod,
attaches it to the intent, then confirms, in two calls, because localstripe answers 500 "Not
implemented" when ``payment_method`` is given to ``/confirm`` itself. A card asking for 3-D Secure
is then authenticated (or refused with ``--fail-3ds``). localstripe posts the outcome to the app's
webhook, registered by ``make dev``, about a second later, and the order becomes paid.

    make pay INTENT=pi_...                           # the success card 4242 4242 4242 4242
    make pay INTENT=pi_... CARD=4000000000000341     # declined when charged

Test cards (localstripe follows Stripe's numbers): ``4242424242424242`` succeeds;
``4000000000000341`` is declined when charged; ``4000000000000002`` is declined when attached;
``4000002500003155`` asks for 3-D Secure.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from devtools.dev import STACK_ENV

SUCCESS_CARD = "4242424242424242"


class CardRefused(Exception):
    """localstripe (as Stripe would) refused the card or the request; the message says why."""


def _call(stripe_url: str, path: str, fields: dict[str, str] | None = None, *, secret_key: str) -> dict:
    body = urllib.parse.urlencode(fields or {}).encode() if fields is not None else None
    request = urllib.request.Request(f"{stripe_url}{path}", data=body, method="POST" if body is not None else "GET",
                                     headers={"Authorization": f"Bearer {secret_key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        raise CardRefused(f"{path}: {error.code} {detail}") from None


def pay_by_card(stripe_url: str, intent_id: str, *, card_number: str = SUCCESS_CARD,
                secret_key: str = "sk_test_local", pass_3ds: bool = True) -> dict:
    """Confirm ``intent_id`` with a test card; the intent as localstripe holds it afterwards."""
    if not intent_id.startswith("pi_") or not intent_id.replace("_", "").isalnum():
        raise CardRefused(f"{intent_id!r} is not a PaymentIntent id (pi_...)")
    method = _call(stripe_url, "/v1/payment_methods", {
        "type": "card", "card[number]": card_number, "card[exp_month]": "12", "card[exp_year]": "2034",
        "card[cvc]": "123"}, secret_key=secret_key)
    _call(stripe_url, f"/v1/payment_intents/{intent_id}", {"payment_method": method["id"]}, secret_key=secret_key)
    intent = _call(stripe_url, f"/v1/payment_intents/{intent_id}/confirm", {}, secret_key=secret_key)
    if intent.get("status") == "requires_action":
        intent = _call(stripe_url, f"/v1/payment_intents/{intent_id}/_authenticate", {
            "client_secret": intent["client_secret"], "success": "true" if pass_3ds else "false"},
            secret_key=secret_key)
    return intent


def _stack_variables() -> dict[str, str]:
    if not STACK_ENV.exists():
        raise SystemExit(f"{STACK_ENV} is missing: start the local stack with `make dev` first.")
    variables = {}
    for line in Path(STACK_ENV).read_text().splitlines():
        name, _, value = line.partition("=")
        variables[name] = shlex.split(value)[0] if value else ""
    return variables


def main() -> None:
    parser = argparse.ArgumentParser(description="Pay a PaymentIntent by card at the local stack's localstripe")
    parser.add_argument("intent", help="the PaymentIntent id the checkout answered (pi_...)")
    parser.add_argument("--card", default=SUCCESS_CARD, help="a test card number (see the module's docstring)")
    parser.add_argument("--fail-3ds", action="store_true", help="refuse the 3-D Secure step of a card asking for it")
    args = parser.parse_args()
    stack = _stack_variables()
    try:
        intent = pay_by_card(os.environ.get("STRIPE_API_BASE") or stack["STRIPE_API_BASE"], args.intent,
                             card_number=args.card.replace(" ", ""), pass_3ds=not args.fail_3ds,
                             secret_key=stack.get("STRIPE_SECRET_KEY", "sk_test_local"))
    except CardRefused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        sys.exit(1)
    print(f"{intent['id']}: {intent['status']} (the app hears of it through its webhook in about a second)")


if __name__ == "__main__":
    main()
