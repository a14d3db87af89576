"""Local tables follow the models: an index a newer model adds to a table that already exists (a
developer's persisted DynamoDB Local) is created on the next start, without losing the items."""
from __future__ import annotations

import secrets

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import index_meta, table_meta
from chalicelib.models.registry import _add_missing_indexes


def test_a_new_index_is_added_to_an_existing_table_and_its_items_stay():
    name = f"probe-{secrets.token_hex(3)}"

    class Before(Model):
        Meta = table_meta(name)
        key = UnicodeAttribute(hash_key=True)
        city = UnicodeAttribute()

    class ByCity(GlobalSecondaryIndex):
        Meta = index_meta(f"{name}-by-city", KeysOnlyProjection())
        city = UnicodeAttribute(hash_key=True)

    class After(Model):
        Meta = table_meta(name)
        key = UnicodeAttribute(hash_key=True)
        city = UnicodeAttribute()
        by_city = ByCity()

    Before.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        Before(key="a", city="Lyon").save()
        assert _add_missing_indexes(After) == [f"{Before.Meta.table_name}:{name}-by-city"]
        assert _add_missing_indexes(After) == []  # the next start adds nothing
        assert [item.key for item in After.by_city.query("Lyon")] == ["a"]
    finally:
        Before.delete_table()
