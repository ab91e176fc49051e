"""The deployed stack serves the API docs only when a parameter says so (issue 16, point 3).

template.yaml's ServeApiDocs (off by default) is the condition of the docs function and of every
resource of it, which SAM carries to what it makes of the function (role, invoke permissions, the
routes in the HTTP API's OpenAPI body): checked here on SAM's own translation, offline. The local
stack reads the template at its parameters' defaults, so it routes nothing to the docs function (it
serves the docs pages itself, infra.openapi.local_pages).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra import cfn

REPO = cfn.REPO_ROOT
CONDITION = "ServesApiDocs"
DOCS_ROUTES = {("ANY", "/api/v1/openapi.json"), ("ANY", "/docs"), ("ANY", "/docs/{asset}")}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn.load_template()


def _references(value: Any) -> set[str]:
    """The logical ids ``value`` points at anywhere inside (Ref, GetAtt, ${...} of a Sub)."""
    if isinstance(value, dict):
        found = {target} if (target := cfn.referenced_logical_id(value)) else set()
        sub = value.get("Fn::Sub")
        text = sub if isinstance(sub, str) else (sub[0] if isinstance(sub, list) and sub else "")
        found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", str(text))}
        return found.union(*(_references(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value))
    return set()


def _translated(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The template as SAM's transform turns it into CloudFormation (samtranslator, what `sam deploy`
    sends CloudFormation's transform to do), with the code locations a packaged template has."""
    import copy

    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in (resource.get("Properties") or {}):
                resource["Properties"][key] = {"Bucket": "artifacts", "Key": "code.zip"}
    parameters = {"Env": "dev", "CorsAllowedOrigins": "https://app.example"}
    translated: dict[str, Any] = Translator({}, parser.Parser()).translate(packaged, parameter_values=parameters)
    return translated


def test_the_docs_parameter_is_off_by_default_and_names_the_condition(template: dict[str, Any]) -> None:
    # Given the ServeApiDocs parameter and the condition made of it
    parameter = template["Parameters"]["ServeApiDocs"]
    # Then it is a true/false switch, off unless a deploy says otherwise
    assert (parameter["Type"], parameter["AllowedValues"], parameter["Default"]) == (
        "String", ["true", "false"], "false")
    assert template["Conditions"][CONDITION] == {"Fn::Equals": [{"Ref": "ServeApiDocs"}, "true"]}
    assert cfn.condition_holds(template, CONDITION) is False
    assert cfn.condition_holds(template, CONDITION, {"ServeApiDocs": "true"}) is True
    # And no environment's samconfig.toml turns it on
    config = tomllib.loads((REPO / "samconfig.toml").read_text(encoding="utf-8"))
    for env, commands in config.items():
        if not isinstance(commands, dict):
            continue
        for command, section in commands.items():
            overrides = " ".join((section.get("parameters") or {}).get("parameter_overrides") or [])
            assert "ServeApiDocs=true" not in overrides, (env, command)


def test_every_resource_of_the_docs_function_carries_the_condition(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    # Given the docs function, the resources it refers to but the shared HTTP API, and every resource
    # that refers to one of them
    docs = {"DocsFunction"} | ((_references(resources["DocsFunction"]) & set(resources)) - {"HttpApi"})
    while True:
        more = {logical_id for logical_id, resource in resources.items()
                if logical_id not in docs and _references(resource) & docs}
        if not more:
            break
        docs |= more
    # Then they are the function, its log group and its two alarms, each under the condition
    assert docs == {"DocsFunction", "DocsLogGroup", "DocsFunctionErrorsAlarm", "DocsFunctionThrottlesAlarm"}
    assert {logical_id: resources[logical_id].get("Condition") for logical_id in docs} == dict.fromkeys(docs, CONDITION)
    # And the HTTP API, which its routes join, stays (the other functions' routes are on it)
    assert "Condition" not in resources["HttpApi"]


def test_sam_deploys_and_routes_nothing_of_the_docs_function_when_the_parameter_is_off(
        template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # When SAM translates the template
    translated = _translated(template, monkeypatch)
    resources = translated["Resources"]
    # Then every resource it made of the docs function (the Lambda function, its role, an invoke
    # permission per route) carries the condition
    made = {logical_id: resource.get("Condition") for logical_id, resource in resources.items()
            if logical_id.startswith("DocsFunction")}
    assert {"DocsFunction", "DocsFunctionRole", "DocsFunctionOpenApiDocumentPermission",
            "DocsFunctionDocsPagePermission", "DocsFunctionDocsAssetsPermission"} <= set(made)
    assert set(made.values()) == {CONDITION}
    # And each docs path of the HTTP API's OpenAPI body exists only under the condition
    paths = resources["HttpApi"]["Properties"]["Body"]["paths"]
    for _method, path in DOCS_ROUTES:
        [(key, (condition, _item, otherwise))] = paths[path].items()
        assert (key, condition, otherwise) == ("Fn::If", CONDITION, {"Ref": "AWS::NoValue"}), path
    # And the stage holds no settings for a docs route (they are not conditional: the route key would
    # not exist with the parameter off)
    stage = resources["HttpApiApiGatewayDefaultStage"]["Properties"]
    assert not [key for key in stage.get("RouteSettings", {}) if "/docs" in key or "openapi" in key]
    # And every other function's routes are unconditional paths, as before
    assert not [path for path, item in paths.items() if "Fn::If" in item and (("ANY", path) not in DOCS_ROUTES)]


def test_the_local_stack_routes_the_docs_function_only_with_the_parameter_on(template: dict[str, Any]) -> None:
    # When the routes are read at the parameters' defaults (what the local stack and its tools do)
    routes = cfn.http_routes(template)
    # Then none goes to the docs function: its paths reach $default, as in a stack deployed by default
    assert "DocsFunction" not in {route.function_logical_id for route in routes}
    found = cfn.match_route(routes, "GET", "/docs")
    assert found is not None and found[0].key == "$default"
    # And with the parameter on, its three routes are there and take their paths
    enabled = cfn.http_routes(template, {"ServeApiDocs": "true"})
    assert {(r.method, r.path) for r in enabled if r.function_logical_id == "DocsFunction"} == DOCS_ROUTES
    for path in ("/docs", "/docs/swagger-ui.css", "/api/v1/openapi.json"):
        picked = cfn.match_route(enabled, "HEAD", path)
        assert picked is not None and picked[0].function_logical_id == "DocsFunction", path
    # And the function itself is still one of the template's (its IAM and alarms are checked as any other's)
    assert "DocsFunction" in {function.logical_id for function in cfn.functions(template)}


def test_conditions_evaluate_like_cloudformation_and_refuse_what_needs_a_deploy(template: dict[str, Any]) -> None:
    # Given conditions built of parameters with and without defaults
    made_up = {"Parameters": {"A": {"Default": "x"}, "B": {"Default": False}, "Env": {}},
               "Conditions": {"IsX": {"Fn::Equals": [{"Ref": "A"}, "x"]},
                              "Both": {"Fn::And": [{"Condition": "IsX"},
                                                   {"Fn::Not": [{"Fn::Equals": [{"Ref": "B"}, "false"]}]}]},
                              "Either": {"Fn::Or": [{"Condition": "IsX"}, {"Fn::Equals": [{"Ref": "Env"}, "prod"]}]},
                              "ByEnv": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}}
    # Then each is evaluated at the defaults, or at the values given
    assert cfn.condition_holds(made_up, "IsX") and not cfn.condition_holds(made_up, "Both")
    assert cfn.condition_holds(made_up, "Both", {"B": "true"})
    assert cfn.condition_holds(made_up, "Either")
    assert cfn.condition_holds(made_up, "ByEnv", {"Env": "prod"})
    # And a parameter with no default and no value given is an error, not a guess
    with pytest.raises(ValueError, match="Env has no default"):
        cfn.condition_holds(made_up, "ByEnv")
    with pytest.raises(ValueError, match="no condition"):
        cfn.condition_holds(made_up, "Nope")
    # And the real template's own IsProd needs its Env
    with pytest.raises(ValueError, match="Env"):
        cfn.condition_holds(template, "IsProd")


def test_the_docs_function_reads_no_secret_and_is_granted_nothing(template: dict[str, Any]) -> None:
    # Given the docs function in the template
    function = template["Resources"]["DocsFunction"]["Properties"]
    # Then it has no policy of its own (SAM's basic execution role and X-Ray only): not even the secrets
    assert "Policies" not in function and "Role" not in function
    # And importing its handler, as a cold start does, loads no settings (so reads no SSM parameter),
    # no store or cache, no boto3 and nothing of swagger-ui-py's Python code
    code = REPO / "functions" / "docs"
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
           "PYTHONPATH": os.pathsep.join([str(code), str(REPO / "layers" / "common")])}
    program = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", program], cwd=code, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "app" in loaded and "mangum" in loaded
    unwanted = ("mindly.config", "mindly.store", "mindly.cache", "boto3", "pynamodb", "swagger_ui", "jinja2")
    assert sorted(name for name in loaded if any(name == u or name.startswith(u + ".") for u in unwanted)) == []


def test_the_docs_package_carries_uv_locks_swagger_ui_and_the_committed_document(template: dict[str, Any]) -> None:
    from mindly.http.docs_pages import ASSETS

    # Given the docs function's build
    function = template["Resources"]["DocsFunction"]
    assert function["Metadata"] == {"BuildMethod": "makefile"}
    assert (function["Properties"]["CodeUri"], function["Properties"]["Handler"]) == ("functions/docs/", "app.handler")
    makefile = (REPO / "functions" / "docs" / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^build-DocsFunction:", makefile, re.MULTILINE)
    # Then it packages the committed document beside app.py (where app.py reads it) and the UI's files
    assert 'cp "$(REPO)/docs/openapi.json" "$(ARTIFACTS_DIR)/openapi.json"' in makefile
    packaged = set(re.search(r"^ASSETS := (.+)$", makefile, re.MULTILINE).group(1).split())  # type: ignore[union-attr]
    assert set(ASSETS) | {"LICENSE"} == packaged
    # And the swagger-ui-py it takes them from is the local stack's, by version and hash (uv.lock)
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    [locked] = [package for package in lock["package"] if package["name"] == "swagger-ui-py"]
    [wheel] = locked["wheels"]
    pins = [line for line in (REPO / "functions" / "docs" / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins == [f"swagger-ui-py=={locked['version']} --hash={wheel['hash']}"]
    assert "--require-hashes" in makefile and "--no-deps" in makefile
    # And the shared layer does not carry it: no other function's package or cold start changes
    layer = (REPO / "layers" / "common" / "requirements.txt").read_text(encoding="utf-8")
    assert not re.search(r"^swagger-ui-py", layer, re.MULTILINE)


def test_the_local_tools_and_the_layer_name_the_same_docs_paths() -> None:
    from infra import openapi
    from mindly.http import docs_pages

    assert (openapi.DOCUMENT_ROUTE, openapi.DOCS_ROUTE) == (docs_pages.DOCUMENT_ROUTE, docs_pages.DOCS_ROUTE)
    assert Path(docs_pages.swagger_ui_static(), "swagger-ui-bundle.js").is_file()
