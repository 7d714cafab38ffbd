"""GET /api/openapi.json describes every route the service serves, contributed by each route module."""
from aiohttp import web

from service import openapi


def test_spec_lists_every_routed_api_path(policy_service):
    spec = policy_service.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/search", "/api/answer", "/api/chat", "/api/feedback", "/api/clauses/{clause_id}/retire"):
        assert path in spec["paths"]
    assert {"post", "get"} <= set(spec["paths"]["/api/feedback"])
    assert set(spec["paths"]["/api/clauses/{clause_id}"]) == {"get", "put"}  # two modules, one path


def test_contributions_merge_per_method():
    app = web.Application()
    openapi.contribute(app, {"/x": {"get": {"summary": "a"}}})
    openapi.contribute(app, {"/x": {"post": {"summary": "b"}}, "/y": {"get": {}}})
    assert set(openapi.spec(app)["paths"]) == {"/x", "/y"}
    assert set(openapi.spec(app)["paths"]["/x"]) == {"get", "post"}


def test_every_agent_route_is_described_with_its_method_and_login(policy_service):
    """Read from the router: a console function added without its description fails here."""
    spec = policy_service.get("/api/openapi.json").json()
    routes = [(route.method.lower(), route.resource.canonical) for route in policy_service.runner.app.router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/api/agent/")
              and route.method != "HEAD"]
    assert len(routes) >= 12
    for method, path in routes:
        operation = spec["paths"][path][method]
        assert {"sessionCookie": []} in operation["security"] and {"staffToken": []} in operation["security"]
        assert {"401", "403"} <= set(operation["responses"]) or path == "/api/agent/me", (method, path)
    assert set(spec["components"]["securitySchemes"]) == {"staffToken", "sessionCookie"}
