"""Webhooks from the outside world, handed to the feature each event concerns. It sits above
every feature it dispatches to (orders' checkout, money, subscriptions), so none of them has to
know the others: a Stripe event about an instalment reaches the subscriptions without the money
package importing them.

- :mod:`.stripe_events`: Stripe's signed webhook.
"""
