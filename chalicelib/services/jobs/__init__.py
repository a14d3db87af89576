"""Background jobs: bulk work in resumable chunks on the SQS jobs queue.

A feature that must act on many items (resend the confirmations of thousands of orders,
tell every customer of a cancelled performance, run a release) defines a **job kind** and
starts a job; staff poll its progress.

Defining a kind
---------------

A kind is a function that does one chunk of the work, registered under a name::

    from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind

    @job_kind("mail.resend_confirmations", max_items=200)
    def resend_confirmations(actor, params, cursor, budget: ChunkBudget) -> ChunkResult:
        after = cursor["after"] if cursor else None
        done = 0
        for order in orders.of_performance(actor, params["performance_id"], after=after):
            if not budget.take():
                return ChunkResult(done=done, cursor={"after": after})
            mail.send_mail(actor, confirmation(order, idempotency_key=f"job:{budget.job_id}:{order.id}"))
            done, after = done + 1, order.id
        return ChunkResult(done=done, cursor=None)

and its module is named where the app is wired (``app.py`` calls
:func:`~chalicelib.services.jobs.wiring.register_kind_modules`);
the framework imports those modules when a job starts or a chunk runs, never when the app
loads, and never names them itself. ``cursor`` is what the previous chunk returned (``None`` for
the first); returning ``cursor=None`` finishes the job. ``total`` may be given whenever the
kind learns it. An item that cannot be done counts in ``failed`` (the job still succeeds;
staff see the count); raise :class:`JobFailed` to end the whole job at once (its params
name something that is gone). Any other exception is a crash: the chunk is retried.

A kind whose chunks hold something across the job (an S3 multipart upload under way) gives
``on_end=``: it is called with the job when it ends unfinished (failed, whatever the cause,
or cancelled), best effort, to release it.

**Each item must be idempotent**, keyed by the job and the item (``job:{job_id}:{item}``:
a mail idempotency key, a conditional write, a Stripe idempotency key). A chunk may run
again after a crash, or twice at once from a duplicated message; only one run is *counted*
(below), but every run *acts*. Count an item already done by an earlier run as done: the
counters describe outcomes, not which run produced them.

How chunks run, and why they count exactly once
-----------------------------------------------

A chunk message is ``{"v": 1, "tenant_id", "job_id", "seq"}``: "run chunk ``seq`` of this job".
The Job item holds ``chunk_seq``, the number of chunks recorded so far. The handler
(:func:`run_next_chunk`, one message per invocation):

1. loads the job (consistent read). An ended job (succeeded, failed, cancelled) acknowledges
   the message and does nothing: that is how a cancel stops a job;
2. if ``seq != chunk_seq`` the message is stale (see 6) and is acknowledged;
3. runs the kind with a :class:`ChunkBudget`: it stops taking items after ``max_items``, or
   when the Lambda's remaining time falls under a safety margin (60 s, or half the time
   left if that is less), so a chunk ends far inside the time limit;
4. **records** the chunk in one UpdateItem conditioned on ``chunk_seq == seq`` (and on the
   item's version, retried on a clash with a concurrent cancel): counters added, cursor
   replaced, ``chunk_seq`` moved to ``seq + 1``, the message's SQS id remembered, status
   moved (queued -> running, or -> succeeded when the cursor is ``None``);
5. **then** sends the continuation (message ``seq + 1``) unless the job finished or was
   cancelled meanwhile.

Exactly-once accounting: the counters only change in the update that moves ``chunk_seq``
from ``seq`` to ``seq + 1``, so of all the runs of chunk ``seq`` (retries, duplicates running
at once) at most one is counted; the loser of a race sends nothing. The continuation is sent
only after the record, so chunk ``seq + 1`` never starts before chunk ``seq`` is counted, and
the cursor it starts from is the counted run's.

6. The failure between 4 and 5: the record is written but the send fails (or the Lambda
   dies). The handler raises, SQS delivers the *same* message again (same SQS message id),
   and step 2 sees it stale **with its own id remembered** on the job: it sends the
   continuation again. A *different* message with a stale seq (a duplicate copy, a second
   continuation) is dropped, so duplicates die out instead of cascading down the job.

Crashes: a chunk that raises records the failed attempt (``attempts``, ``last_error``, a
note) conditioned on ``chunk_seq == seq``, makes its message visible again after a growing
delay (:data:`RETRY_DELAYS_SECONDS`) and raises; SQS delivers it again and the chunk runs
again from the same cursor. After :data:`MAX_CHUNK_ATTEMPTS` failed attempts the job ends
``failed`` with the error. A Lambda that dies without reaching the except clause (time limit,
memory) is caught by the message's ``ApproximateReceiveCount`` (above :data:`MAX_DELIVERIES`).
The queue's redrive policy, if any, must allow more receives than that, or SQS gives up first.

Malformed messages, unknown jobs and unknown kinds are logged and acknowledged (a raise
would only bring them back).

The Job item is written once per chunk (plus once per failed attempt); staff reads and
listings are Queries on the tenant's partition, newest first.

The framework is :mod:`.framework`; the kinds live in the features that define them.
"""
