"""Schemathesis over every operation of the real server (`ragrec serve`), authenticated
with an admin key (issue 14): no 5xx, status codes, content types, headers and bodies as
the schema declares them, valid data accepted and invalid data refused, and every
operation that declares a key refuses requests without one.

`POST /internal/personas/refresh` is sent with `mode=assign` (a `discover` re-runs GDS
and clustering: minutes, covered by the persona tests). The few rules a JSON Schema cannot
state (relative time bounds, a picture that decodes, state) are listed in STATE_RULES."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from neo4j import Driver
from schemathesis.config import SchemathesisConfig

from ragrec.config import PROJECT_ROOT, Settings
from ragrec.cypher import query
from ragrec.graph.loader import load_data
from ragrec.services.sandbox import serving

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_ROOT / "data" / "sample"
ADMIN_KEY = "schemathesis-admin"
EXAMPLES = int(os.environ.get("RAGREC_SCHEMATHESIS_EXAMPLES", "8"))
CHECK = "positive_data_acceptance"
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]
#: schema-valid requests that a rule JSON Schema cannot state refuses with a 4xx naming
#: the field: the picture must decode and min_price <= max_price; event times are bounded
#: relative to now; a persona refresh needs personas; a new product needs a name
STATE_RULES = {
    "/similar/image$": [*ACCEPTED, "400", "415"],
    "/interactions(/batch)?$": [*ACCEPTED, "400"],
    "/internal/events$": [*ACCEPTED, "400"],
    "/internal/personas/refresh$": [*ACCEPTED, "422"],
    "/internal/products$": [*ACCEPTED, "422"],
}
OPERATION_CHECKS: dict[str, dict[str, Any]] = {
    regex: {CHECK: {"expected-statuses": codes}} for regex, codes in STATE_RULES.items()
}
# a multipart form field sent twice is read once (the form parser's choice): "an array
# where a string is declared" is not refused there
OPERATION_CHECKS["/similar/image$"]["negative_data_rejection"] = {"enabled": False}


@pytest.fixture(scope="module")
def server(
    neo4j_driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with neo4j_driver.session(database=settings.neo4j_database) as session:
        session.run(query("graph/wipe")).consume()
    load_data(SAMPLE, settings, neo4j_driver, show_progress=False, bulk=False)
    log = tmp_path_factory.mktemp("schemathesis") / "serve.log"
    env = {"RAGREC_API_KEYS": json.dumps({"admin": [ADMIN_KEY]}), "RAGREC_API_RATE_LIMIT": "0"}
    # a loaded machine: model warm-up
    with serving(env=env, log=log, timeout_s=300) as api:
        yield api.base
    text = log.read_text()
    assert "Traceback" not in text, text[text.index("Traceback") - 500 :][:4000]


@pytest.fixture(scope="module")
def api_schema(server: str) -> Any:
    # examples + fuzzing (EXAMPLES per operation); the coverage phase's boundary cases
    # would send hundreds of requests per operation: minutes, not the ~2 the suite allows
    config = SchemathesisConfig.from_dict(
        {
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            # query strings are open (unknown parameters are ignored, as HTTP APIs do);
            # JSON bodies are closed and say so (additionalProperties: false)
            "generation": {"allow-extra-parameters": False},
            "operations": [
                {"include-path-regex": regex, "checks": checks}
                for regex, checks in OPERATION_CHECKS.items()
            ],
        }
    )
    return schemathesis.openapi.from_url(f"{server}/schema/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation(case: Any) -> None:
    if case.path.endswith("/internal/personas/refresh") and isinstance(case.body, dict):
        case.body["mode"] = "assign"
    case.call_and_validate(headers={"X-API-Key": ADMIN_KEY}, timeout=60)
