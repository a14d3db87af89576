"""localstripe for benchmarks that make thousands of Stripe objects: the test suite's localstripe
(``devtools/localstripe_loopback.py``: the same package, bound to 127.0.0.1 on a free port) less
three costs that grow with everything already created and that real Stripe does not have:

- localstripe pickles its whole store to ``/tmp/localstripe.pickle`` after every write (at 600
  payers a write already costs ~75 ms, and the file is the one ``make dev`` reloads): not done;
- every list (and every Charge it answers: a charge shows its refunds, listed) reads the whole
  store for the objects of one type: a charge took 7 ms at 900 payers, 50 ms at 9,400. Here the
  store keeps its keys by type, and a list reads those of its type;
- it refuses ``customer`` when listing PaymentIntents, so the app's look before charging
  (``payments.charges_with``) falls back to listing every PaymentIntent of the account, 100 a
  page: here the list is filtered by customer, as real Stripe's is.

Everything else (objects, confirmations, outcomes, webhooks) is localstripe's own.

    .venv/bin/python -m bench.lean_localstripe --port 12345
"""
from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from pathlib import Path


def start(log_dir: Path):
    """This server on a free 127.0.0.1 port, as ``engines.start_localstripe`` starts the stock one."""
    import sys

    from devtools import engines

    port = engines.free_port()
    return engines.spawn("localstripe-lean", [sys.executable, "-m", "bench.lean_localstripe", "--port", str(port)],
                         port, log_dir)


def _lean() -> None:
    from localstripe import resources

    resources.Store.dump_to_disk = lambda self: None
    by_type: dict[str, list[str]] = defaultdict(list)  # in the store's order (a dict keeps the first insertion's)
    by_customer: dict[str, list[str]] = defaultdict(list)
    indexed = [0]

    def setitem(self, key, value):
        new = key not in self
        dict.__setitem__(self, key, value)
        if new and isinstance(key, str):
            by_type[key.split(":", 1)[0]].append(key)

    def list_of_type(cls, url, limit=None, starting_after=None, **kwargs):  # StripeObject._api_list_all, indexed
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        found = resources.List(url, limit=limit, starting_after=starting_after)
        store = resources.store
        found._list = [store[key] for key in by_type.get(cls.object, ()) if key in store]
        return found

    resources.Store.__setitem__ = setitem
    resources.StripeObject._api_list_all = classmethod(list_of_type)
    intent_keys = by_type["payment_intent"]
    unfiltered = resources.PaymentIntent._api_list_all.__func__

    def list_all(cls, url, customer=None, limit=None, starting_after=None, **kwargs):
        if customer is None:
            return unfiltered(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        while indexed[0] < len(intent_keys):  # the customer is set after the object is stored
            key = intent_keys[indexed[0]]
            intent = resources.store.get(key)
            if intent is not None:
                by_customer[intent.customer].append(key)
            indexed[0] += 1
        found = resources.List(url, limit=limit, starting_after=starting_after)
        found._list = sorted((resources.store[key] for key in by_customer.get(customer, []) if key in resources.store),
                             key=lambda intent: intent.created, reverse=True)
        return found

    resources.PaymentIntent._api_list_all = classmethod(list_all)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _lean()
    from aiohttp import web
    from localstripe.server import app

    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
