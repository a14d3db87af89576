"""The domain: plain functions taking an actor, ids and typed inputs; no HTTP, no request objects."""
