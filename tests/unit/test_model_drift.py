"""template.yaml and the pynamodb models describe the same tables.

Given the tables template.yaml deploys (and the local stack creates) and the base model of each
table, when their keys, attribute types, GSIs and TTL attributes are compared, then they are equal.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra import cfn


def _model_shape(model: Any) -> dict[str, Any]:
    """Keys, key attribute types, GSIs and TTL of a model, from pynamodb's own table schema (what
    pynamodb would create)."""
    schema = model._get_schema()
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    indexes = {}
    for gsi in schema.get("global_secondary_indexes", []):
        gsi_keys = {k["KeyType"]: k["AttributeName"] for k in gsi["key_schema"]}
        indexes[gsi["index_name"]] = {"hash": gsi_keys["HASH"], "range": gsi_keys.get("RANGE"),
                                      "projection": gsi["projection"]["ProjectionType"]}
    ttl = next((name for name, a in model.get_attributes().items() if type(a).__name__ == "TTLAttribute"), None)
    return {
        "hash": keys["HASH"], "range": keys.get("RANGE"),
        "types": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
        "indexes": indexes, "ttl": ttl,
    }


def _template_shape(definition: Any) -> dict[str, Any]:
    kwargs = definition.create_kwargs
    keys = {k["KeyType"]: k["AttributeName"] for k in kwargs["KeySchema"]}
    indexes = {}
    for gsi in kwargs.get("GlobalSecondaryIndexes", []):
        gsi_keys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        indexes[gsi["IndexName"]] = {"hash": gsi_keys["HASH"], "range": gsi_keys.get("RANGE"),
                                     "projection": gsi["Projection"]["ProjectionType"]}
    return {
        "hash": keys["HASH"], "range": keys.get("RANGE"),
        "types": {a["AttributeName"]: a["AttributeType"] for a in kwargs["AttributeDefinitions"]},
        "indexes": indexes, "ttl": definition.ttl_attribute,
    }


@pytest.fixture(scope="module")
def template_tables() -> dict[str, Any]:
    return cfn.table_definitions(cfn.load_template())


def test_every_table_has_a_model(template_tables: dict[str, Any]) -> None:
    from mindly.store.models import TABLE_MODELS

    # Given the deployed tables, when each is matched to its model, then none is unaccounted for
    # (an unused table is a cost and a grant nobody needs)
    assert set(template_tables) == set(TABLE_MODELS)


@pytest.mark.parametrize("logical_id", ["UsersTable", "ContentTable", "StudyTable"])
def test_model_matches_template(template_tables: dict[str, Any], logical_id: str) -> None:
    from mindly.store.models import TABLE_MODELS

    # Given a table in template.yaml and its pynamodb base model
    model = TABLE_MODELS[logical_id]
    # When both are reduced to keys, key types, GSIs and TTL
    # Then they are the same
    assert _model_shape(model) == _template_shape(template_tables[logical_id])
