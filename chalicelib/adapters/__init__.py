"""Adapters: the outside world (clock, ids, signing, tokens, AWS, Stripe, mail) behind small interfaces."""
