"""The load scenario of bench/load.py (locust): billers entering charges and working the queue
in the browser, a partner EHR posting charges and reading claims through the API, a manager on
the dashboard. bench/load.py writes the fixture (ids, API key) and starts the server; run it,
not this file."""

from __future__ import annotations

import json
import os
import random
import re
from datetime import date, timedelta
from typing import Any

from locust import HttpUser, between, task

FIXTURE: dict[str, Any] = json.loads(open(os.environ["LOAD_FIXTURE"]).read())  # noqa: SIM115
ORG = f"/o/{FIXTURE['org']}"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _slot() -> tuple[dict[str, Any], date, int]:
    """An episode, a day after its admission and a start hour: charges rarely collide (a charge
    at a time already taken is refused as a duplicate, which the scenario counts as a failure)."""
    episode = random.choice(FIXTURE["episodes"])
    first = date.fromisoformat(episode["admission_date"])
    last = date.fromisoformat(FIXTURE["yesterday"])
    day = first + timedelta(days=random.randint(0, max(0, (last - first).days)))
    return episode, day, random.randint(0, 10_000)


class _Member(HttpUser):
    abstract = True
    email = ""

    def on_start(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text)
        self.client.post(
            "/accounts/login/",
            {
                "username": self.email,
                "password": FIXTURE["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
        )


class Biller(_Member):
    weight = 3
    wait_time = between(1, 3)
    email = FIXTURE["biller"]

    @task(3)
    def work_queue(self) -> None:
        self.client.get(f"{ORG}/denials/", name="work queue")

    @task(2)
    def claims_list(self) -> None:
        self.client.get(f"{ORG}/claims/?page={random.randint(1, 3)}", name="claims list")

    @task(1)
    def claim_page(self) -> None:
        self.client.get(f"{ORG}/claims/{random.choice(FIXTURE['claims'])}/", name="claim page")

    @task(2)
    def enter_charge(self) -> None:
        episode, day, n = _slot()
        url = f"{ORG}/claims/charges/new/?patient={episode['patient']}"
        form = self.client.get(url, name="charge form")
        token = CSRF.search(form.text)
        minute = n % 600
        start = f"{7 + minute // 60:02d}:{minute % 60:02d}"
        end_minute = minute + 45
        end = f"{7 + end_minute // 60:02d}:{end_minute % 60:02d}"
        with self.client.post(
            url,
            {
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "patient": episode["patient"],
                "episode": episode["id"],
                "rendering_provider": FIXTURE["provider"],
                "date_of_service": day.isoformat(),
                "kind": "psychotherapy",
                "start_time": start,
                "end_time": end,
                "documentation_signed": "on",
            },
            headers={"Referer": self.host + url},
            allow_redirects=False,
            name="charge form (post)",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"charge not recorded: {response.status_code}")


class Partner(HttpUser):
    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {FIXTURE['api_key']}"

    @task(3)
    def post_charge(self) -> None:
        episode, day, n = _slot()
        start = f"{day.isoformat()}T{7 + n % 10:02d}:{(n // 10) % 60:02d}:00-06:00"
        with self.client.post(
            "/api/v1/charges/",
            json={
                "patient": episode["patient"],
                "episode": episode["id"],
                "rendering_provider": FIXTURE["provider"],
                "date_of_service": day.isoformat(),
                "kind": "psychotherapy",
                "start_at": start,
                "end_at": start.replace(f"T{7 + n % 10:02d}:", f"T{8 + n % 10:02d}:"),
                "documentation_signed": True,
            },
            headers={"Idempotency-Key": f"load-{random.getrandbits(64):x}"},
            name="API: create charge",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def list_claims(self) -> None:
        self.client.get("/api/v1/claims/", name="API: list claims")


class Manager(_Member):
    weight = 1
    wait_time = between(2, 5)
    email = FIXTURE["manager"]

    @task(3)
    def dashboard(self) -> None:
        self.client.get(f"{ORG}/dashboards/", name="dashboard")

    @task(1)
    def drilldown(self) -> None:
        self.client.get(f"{ORG}/dashboards/claims/?kind=ar", name="dashboard drill-down")
