"""The published reconciliation API schemas (../shared/schemas), as jsonschema validators.

Tests skip, saying why, when the folder is absent (a clone outside this team);
under ``CI`` a missing folder is a failure. Each API version gets its own
registry of the schemas by ``$id``, so ``lang.json`` and ``type.json`` resolve
offline, and the 0.2 and 1.0-draft copies of a schema never shadow each other.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

SCHEMAS = Path(__file__).resolve().parents[1].parent / "shared" / "schemas" / "reconciliation-api"


def folder() -> Path:
    """The schemas folder, or a skip (a failure under CI) that names it."""
    if not SCHEMAS.is_dir():
        message = f"{SCHEMAS} is absent: the published reconciliation API schemas are needed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SCHEMAS


@functools.cache
def _validators(version: str) -> dict[str, Any]:
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schemas = {}
    resources = []
    base = folder() / version
    for path in sorted(base.glob("*.json")):
        schema = json.loads(path.read_text("utf-8"))
        schemas[path.stem] = schema
        uri = schema.get("$id", "").rstrip("#")
        if uri:
            resources.append((uri, Resource.from_contents(schema, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    return {
        name: Draft7Validator(schema, registry=registry)
        for name, schema in schemas.items()
        if name != "openapi"
    }


def validate(version: str, name: str, instance: Any) -> None:
    """Fail with every error when ``instance`` does not validate against ``version/name``."""
    validator = _validators(version)[name]
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{version}/{name}: " + "; ".join(
        f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]
    )
