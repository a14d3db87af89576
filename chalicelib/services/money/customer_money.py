"""A customer's credit (avoir) and donations: what spectators take instead of a refund.

**Instead of a refund** (:func:`credit_tickets`, :func:`donate_tickets`; the refund page
calls them, staff may too): the chosen tickets stop being valid, their money is settled
once (the same per-ticket guarantee as a refund: a ticket refunded, credited or donated
cannot be settled again), and in one transaction with the order, the ledger entry and the
metrics, the customer's record gets

- a credit entry (``issued``) and the balance of their :class:`CreditAccount` raised; or
- a :class:`Donation` record.

Both belong to the buyer's customer record (contact). An order whose buyer has no record
yet gets one made from the buyer's name and e-mail address, written in the settlement's own
transaction with the order linked to it: a settlement that fails or loses a race (two
submits) writes no contact, and the one written is the one the order names.

**Using credit** (:func:`use_credit`) takes from the balance, never below zero, once per
origin (a claim on ``credit-use#{origin}`` in the same transaction: a retried payment with
credit takes it once). Every change of the balance is conditioned on the balance read, so
concurrent changes cannot both pass on a stale balance and each entry's
``balance_after_cents`` is exact.
"""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import Conflict, FieldError, InvalidInput
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.money import CreditAccount, CreditEntry, Donation
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.contacts import contacts
from chalicelib.services.ledger import ledger
from chalicelib.services.money.quotes import FeePolicy, quote
from chalicelib.services.orders import orders
from chalicelib.services.orders.settlements import (
    TicketChange,
    chosen_tickets,
    free_places,
    restate,
    write_ticket_change,
)
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.services.shared.form_requests import checked_request_id
from chalicelib.services.shared.paging import Page, paged


class NotEnoughCredit(Conflict):
    kind = "not-enough-credit"
    title = "The customer's credit is lower than the amount asked"
    title_fr = "L'avoir du client est inférieur au montant demandé"


def _contact_key(tenant_id: str, contact_id: str) -> str:
    return tenant_key(tenant_id, "contact", contact_id)


def customer_of(actor: Actor, order: Order) -> tuple[str, contacts.NewContact | None]:
    """The buyer's contact id: the one the order names, else the venue's contact with the buyer's
    e-mail, else a customer record prepared from the order (not written: the settlement writes
    it, its e-mail claimed in the same transaction, so two settlements racing make one)."""
    if order.buyer.contact_id:
        return order.buyer.contact_id, None
    existing = contacts.contact_with_email(actor.tenant_id, order.buyer.email) if order.buyer.email else None
    if existing:
        return existing, None  # the venue's customer with this e-mail: no second record
    new = contacts.prepare_buyer_contact(actor, order.buyer)
    return new.contact.id, new


def _settle(actor: Actor, order_id: str, positions: list[int], *, settlement: str, policy: FeePolicy | None,
            build, settlement_id: str | None = None):
    """The tickets settled as ``settlement``; ``build(order, contact_id, settlement_id, quote)``
    gives the records (the first is the settlement's own, returned), updates and the figure
    the ledger moves, to write with them."""
    order = orders.get_order(actor, order_id)
    tickets = orders.tickets_of(order)
    result = _quote(order, tickets, positions, policy)
    contact_id, new_contact = customer_of(actor, order)
    before = orders.copy_of(order)
    order.buyer.contact_id = contact_id
    chosen = chosen_tickets(tickets, result.positions)
    amounts = {line.position: line.amount_cents for line in result.lines}
    settlement_id = settlement_id or ids.new_id()
    records, updates, figure = build(order, contact_id, settlement_id, result)
    if new_contact is not None:  # after the settlement's own record, which stays first
        records = [*records, *new_contact.items]
    effects = [(ticket, {figure: amounts[int(ticket.position)], "tickets_cancelled": 1 if ticket.state == "valid" else 0})
               for ticket in chosen]
    entry = ledger.new_entry(actor, order, settlement, ledger.lines_for(actor.tenant_id, effects),
                             amount_cents=result.total_cents, reference=settlement_id)
    entry.contact_id = contact_id
    freed = free_places(chosen, "cancelled")
    for ticket in chosen:
        ticket.settlement, ticket.settlement_id = settlement, settlement_id
        ticket.settled_cents = amounts[int(ticket.position)]
    total_attribute = {"credit": "credited_cents", "donation": "donated_cents"}[settlement]
    setattr(order, total_attribute, int(getattr(order, total_attribute) or 0) + result.total_cents)
    restate(order, tickets)
    write_ticket_change(actor, TicketChange(
        action=settlement, order=order, before=before, tickets=chosen, freed=freed, entry=entry,
        ticket_condition=Ticket.settlement.does_not_exist(), records=records, updates=updates,
        details={f"{settlement}_id": settlement_id, "amount_cents": result.total_cents,
                 "positions": result.positions}))
    return records[0][0]


def _quote(order: Order, tickets: list[Ticket], positions: list[int], policy: FeePolicy | None):
    """What settling ``positions`` gives the customer: each ticket's share, nothing kept unless a
    policy is given (a campaign's)."""
    return quote(order, tickets, positions, policy=policy or FeePolicy())


def settlement_summary(actor: Actor, order_id: str, positions: list[int]):
    """What turning ``positions`` into credit or a donation would settle, before anything is done
    (nothing is written): the quote :func:`credit_tickets` and :func:`donate_tickets` make."""
    order = orders.get_order(actor, order_id)
    return _quote(order, orders.tickets_of(order), positions, None)


def settle_once(actor: Actor, order_id: str, request_id: str, positions: list[int], *, settlement: str) -> bool:
    """Credit (``settlement="credit"``) or donate the tickets as a summary's form asked, at most
    once: the form's ``request_id`` becomes the settlement's id, so a form sent again finds its
    tickets settled by it and answers ``False`` (done before) instead of a 409; ``True`` when
    made now."""
    if settlement not in ("credit", "donation"):
        raise InvalidInput.on("method", "credit or donation")
    checked_request_id(request_id)
    if _settled_by(actor, order_id, request_id, positions):
        return False
    settle = credit_tickets if settlement == "credit" else donate_tickets
    try:
        settle(actor, order_id, positions, origin_type="staff", settlement_id=request_id)
    except Conflict:
        if _settled_by(actor, order_id, request_id, positions):
            return False
        raise
    return True


def _settled_by(actor: Actor, order_id: str, settlement_id: str, positions: list[int]) -> bool:
    chosen = [ticket for ticket in orders.tickets_of(orders.get_order(actor, order_id))
              if int(ticket.position) in positions]
    return bool(chosen) and all(ticket.settlement_id == settlement_id for ticket in chosen)


def _account_update(tenant_id: str, contact_id: str, currency: str, read_balance: int, *, issued: int = 0,
                    used: int = 0):
    """The balance moved from what was read (the condition fails if it moved meanwhile, so each
    entry's ``balance_after_cents`` is exact)."""
    account = CreditAccount(contact_key=_contact_key(tenant_id, contact_id))
    actions = [CreditAccount.tenant_id.set(tenant_id), CreditAccount.contact_id.set(contact_id),
               CreditAccount.currency.set(currency), CreditAccount.updated_at.set(clock.now()),
               CreditAccount.balance_cents.add(issued - used)]
    if issued:
        actions.append(CreditAccount.issued_cents.add(issued))
    if used:
        actions.append(CreditAccount.used_cents.add(used))
    condition = CreditAccount.balance_cents == read_balance
    if read_balance == 0:
        condition = condition | CreditAccount.contact_key.does_not_exist()
    return account, actions, condition


def credit_account(actor: Actor, contact_id: str) -> CreditAccount:
    """A customer's credit: balance, issued and used (404 for a contact the tenant does not have)."""
    contacts.get_contact(actor, contact_id)
    return _account(actor, contact_id)


def credit_balance(actor: Actor, contact_id: str) -> int:
    """What the customer has in credit now, in cents (0 without an account); no contact check."""
    return int(_account(actor, contact_id).balance_cents)


def donations_total(actor: Actor, contact_id: str) -> int:
    """What the customer gave, in cents: every donation added (a customer's donations are few)."""
    return sum(int(donation.amount_cents) for donation in Donation.query(_contact_key(actor.tenant_id, contact_id)))


def donations_count(actor: Actor, contact_id: str) -> int:
    """How many donations the customer made (a Query that counts, reading no item back)."""
    return Donation.count(_contact_key(actor.tenant_id, contact_id))


def _account(actor: Actor, contact_id: str) -> CreditAccount:
    try:
        return CreditAccount.get(_contact_key(actor.tenant_id, contact_id), consistent_read=True)
    except CreditAccount.DoesNotExist:
        return CreditAccount(contact_key=_contact_key(actor.tenant_id, contact_id), tenant_id=actor.tenant_id,
                             contact_id=contact_id, balance_cents=0, issued_cents=0, used_cents=0,
                             updated_at=clock.now())


def credit_tickets(actor: Actor, order_id: str, positions: list[int], *, origin_type: str = "order",
                   origin_id: str | None = None, policy: FeePolicy | None = None,
                   settlement_id: str | None = None) -> CreditEntry:
    """Turn the tickets' money into credit on the buyer's account (see the module's docstring)."""
    def build(order, contact_id, entry_id, result):
        read_balance = int(_account(actor, contact_id).balance_cents or 0)
        balance = read_balance + result.total_cents
        entry = CreditEntry(
            contact_key=_contact_key(actor.tenant_id, contact_id), entry_id=entry_id, tenant_id=actor.tenant_id,
            contact_id=contact_id, kind="issued", amount_cents=result.total_cents, currency=order.currency,
            balance_after_cents=balance, origin_type=origin_type, origin_id=origin_id or order.id, order_id=order.id,
            positions=result.positions, recorded_at=clock.now(), recorded_by=actor.subject)
        update = _account_update(actor.tenant_id, contact_id, order.currency, read_balance, issued=result.total_cents)
        return [(entry, CreditEntry.entry_id.does_not_exist())], [update], "credits_issued_cents"

    return _settle(actor, order_id, positions, settlement="credit", policy=policy, build=build,
                   settlement_id=settlement_id)


def donate_tickets(actor: Actor, order_id: str, positions: list[int], *, origin_type: str = "order",
                   origin_id: str | None = None, settlement_id: str | None = None) -> Donation:
    """Record the tickets' money as given up to the organiser (see the module's docstring)."""
    def build(order, contact_id, donation_id, result):
        donation = Donation(
            contact_key=_contact_key(actor.tenant_id, contact_id), donation_id=donation_id, tenant_id=actor.tenant_id,
            contact_id=contact_id, order_id=order.id, positions=result.positions, amount_cents=result.total_cents,
            currency=order.currency, origin_type=origin_type, origin_id=origin_id or order.id,
            recorded_at=clock.now(), recorded_by=actor.subject)
        return [(donation, Donation.donation_id.does_not_exist())], [], "donations_cents"

    return _settle(actor, order_id, positions, settlement="donation", policy=None, build=build,
                   settlement_id=settlement_id)


def use_credit(actor: Actor, contact_id: str, amount_cents: int, *, origin_type: str, origin_id: str,
               note: str | None = None) -> CreditEntry:
    """Take ``amount_cents`` of the contact's credit for ``origin`` (once per origin)."""
    if amount_cents <= 0:
        raise InvalidInput("An amount of credit to use is positive.", errors=[FieldError("amount_cents", "> 0")])
    account = credit_account(actor, contact_id)  # the contact is checked once, before any write
    balance = int(account.balance_cents or 0)
    if balance < amount_cents:
        raise NotEnoughCredit(f"The customer has {balance} cents of credit; {amount_cents} were asked.")
    entry = CreditEntry(
        contact_key=_contact_key(actor.tenant_id, contact_id), entry_id=ids.new_id(), tenant_id=actor.tenant_id,
        contact_id=contact_id, kind="used", amount_cents=amount_cents, currency=account.currency or "EUR",
        balance_after_cents=balance - amount_cents, origin_type=origin_type, origin_id=origin_id, note=note,
        recorded_at=clock.now(), recorded_by=actor.subject)
    claim = UniqueKey(key=tenant_key(actor.tenant_id, "credit-use", origin_type, origin_id), entity_type="credit",
                      entity_id=entry.entry_id, label="origin")
    row, actions, unchanged = _account_update(actor.tenant_id, contact_id, entry.currency, balance, used=amount_cents)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(claim, condition=UniqueKey.key.does_not_exist())
            transaction.update(row, actions=actions, condition=unchanged)
            transaction.save(entry)
            transaction.save(audit_event(actor, "contact", contact_id, "credit-used", None,
                                         {"amount_cents": amount_cents, "origin": f"{origin_type}:{origin_id}"}))
    except TransactWriteError as error:
        raise Conflict("The credit was used meanwhile (for this same purpose, or the balance fell below the "
                       "amount); nothing was taken.") from error
    return entry


def credit_history(actor: Actor, contact_id: str, *, limit: int, cursor: str | None) -> Page[CreditEntry]:
    contacts.get_contact(actor, contact_id)
    key = _contact_key(actor.tenant_id, contact_id)
    return paged(f"credit:{key}", cursor, lambda start: CreditEntry.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start))


def donation_history(actor: Actor, contact_id: str, *, limit: int, cursor: str | None) -> Page[Donation]:
    contacts.get_contact(actor, contact_id)
    key = _contact_key(actor.tenant_id, contact_id)
    return paged(f"donations:{key}", cursor, lambda start: Donation.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start))


MOVE_ATTEMPTS = 5


def move_credit(actor: Actor, from_id: str, to_id: str) -> CreditEntry | None:
    """A merge: the whole credit of ``from_id`` moved to ``to_id`` in one transaction (an entry
    out, ``used`` for ``merge``, and one in, ``issued``; both balances conditioned on what was
    read), so moving twice moves nothing more; ``None`` when there was nothing to move."""
    for _ in range(MOVE_ATTEMPTS):
        source, target = _account(actor, from_id), _account(actor, to_id)
        amount = int(source.balance_cents or 0)
        if amount <= 0:
            return None
        currency, now = source.currency or "EUR", clock.now()
        out = CreditEntry(contact_key=_contact_key(actor.tenant_id, from_id), entry_id=ids.new_id(),
                          tenant_id=actor.tenant_id, contact_id=from_id, kind="used", amount_cents=amount,
                          currency=currency, balance_after_cents=0, origin_type="merge", origin_id=to_id,
                          note=f"moved to contact {to_id} (merged)", recorded_at=now, recorded_by=actor.subject)
        into = CreditEntry(contact_key=_contact_key(actor.tenant_id, to_id), entry_id=ids.new_id(),
                           tenant_id=actor.tenant_id, contact_id=to_id, kind="issued", amount_cents=amount,
                           currency=currency, balance_after_cents=int(target.balance_cents or 0) + amount,
                           origin_type="merge", origin_id=from_id, note=f"from contact {from_id} (merged)",
                           recorded_at=now, recorded_by=actor.subject)
        out_row, out_actions, out_unchanged = _account_update(actor.tenant_id, from_id, currency, amount, used=amount)
        in_row, in_actions, in_unchanged = _account_update(actor.tenant_id, to_id, currency,
                                                           int(target.balance_cents or 0), issued=amount)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(out_row, actions=out_actions, condition=out_unchanged)
                transaction.update(in_row, actions=in_actions, condition=in_unchanged)
                transaction.save(out)
                transaction.save(into)
                transaction.save(audit_event(actor, "contact", to_id, "credit-merged", None,
                                             {"from_contact_id": from_id, "amount_cents": amount}))
            return into
        except TransactWriteError:
            continue  # a balance moved meanwhile: read both again
    raise Conflict("The customers' credit kept changing; the merge will try again.")


def move_donations(actor: Actor, from_id: str, to_id: str) -> int:
    """A merge: each donation of ``from_id`` moved under ``to_id`` (the record copied, the original
    deleted, one transaction each), so a retry moves only what is left; how many moved."""
    moved = 0
    for donation in list(Donation.query(_contact_key(actor.tenant_id, from_id), consistent_read=True)):
        copy = Donation()
        copy.deserialize(donation.serialize())
        copy.contact_key, copy.contact_id = _contact_key(actor.tenant_id, to_id), to_id
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(copy, condition=Donation.donation_id.does_not_exist())
            transaction.delete(donation)
        moved += 1
    return moved