from __future__ import annotations

from typing import Any


def test_health_reports_database_and_redis(db: Any, client: Any, settings: Any) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["database"]["status"] == "ok"
    assert body["redis"]["status"] == ("ok" if settings.REDIS_URL else "not configured")


def test_health_is_503_when_redis_is_unreachable(db: Any, client: Any, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"]["status"] == "error"


def test_openapi_schema_and_docs_are_served_offline(db: Any, client: Any) -> None:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and b"/api/v1/me" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_unknown_api_paths_are_problem_json(db: Any, client: Any) -> None:
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code in {401, 404}
    assert response["Content-Type"] == "application/problem+json"
