"""CloudFormation for the DynamoDB tables, generated from the PynamoDB models.

The models are the single description of tables and indexes; this turns them into a
template that ``chalice package --merge-template`` merges into the SAM output, so the
tables deployed in AWS are exactly the ones the code queries (and the ones created locally).

    TABLE_PREFIX=ticketing-prod- python -m infra.tables > .local/infra/prod-tables.json
"""
from __future__ import annotations

import json
import re
import sys


def _key_schema(keys: list[dict]) -> list[dict]:
    # DynamoDB wants HASH before RANGE.
    return sorted(({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys),
                  key=lambda k: k["KeyType"] != "HASH")


def table_resource(model) -> dict:
    schema = model._get_schema()
    properties: dict = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    indexes = [{"IndexName": index["index_name"], "KeySchema": _key_schema(index["key_schema"]),
                "Projection": index["projection"]} for index in schema["global_secondary_indexes"]]
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": properties}


def template() -> dict:
    from chalicelib.models.registry import MODELS

    resources = {}
    for model in MODELS:
        logical = "Table" + "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", model.Meta.table_name))
        resources[logical] = table_resource(model)
    return {"Resources": resources}


if __name__ == "__main__":
    json.dump(template(), sys.stdout, indent=2)
