"""The Prefect flows end to end under one test harness: artifacts of a period run."""

import asyncio

import pytest

from helpers import R1, client, price, usage, write_extracts


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    import os

    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


def test_a_period_run_publishes_its_summary_validation_and_revenue_artifacts(tmp_path, harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.period_run import period_run

    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "clients": [client("C1")],
        "pricing": [price("sms", metered=True, unit_fee="0.10")],
        "usage_events": [usage("a", "C1", "sms", "2026-09-03T00:00:00Z", 40), usage("b", "C9", "sms",
                                                                                  "2026-09-03T00:00:00Z", 1)],
    })
    summary = period_run(ex, tmp_path / "wh", "2026-10")
    assert (summary.invoices, summary.rejects) == (1, 1)

    async def keys():
        async with get_client() as client_:
            found = await client_.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
                any_=["invoice-summary-2026-10", "revenue-by-item-2026-10", "rejects-summary-2026-10",
                      "validation-2026-10", "period-run-2026-10"])))
            return {a.key: a.data for a in found}

    artifacts = asyncio.run(keys())
    assert set(artifacts) == {"invoice-summary-2026-10", "revenue-by-item-2026-10", "rejects-summary-2026-10",
                              "validation-2026-10", "period-run-2026-10"}
    assert "unknown client C9" in str(artifacts["rejects-summary-2026-10"])
    assert "4.00" in str(artifacts["revenue-by-item-2026-10"])


def test_the_deployments_of_prefect_yaml_register_with_their_schedules(tmp_path, harness):
    from prefect.client.orchestration import get_client

    from flows.deployments import declared

    for deployment in declared(tmp_path / "ex", tmp_path / "wh"):
        deployment.apply()

    async def registered():
        async with get_client() as client_:
            found = {}
            for name in ("nightly-run/nightly", "monthly-close/monthly-close"):
                deployment = await client_.read_deployment_by_name(name)
                found[name] = ([s.schedule.cron for s in deployment.schedules], deployment.parameters)
            return found

    found = asyncio.run(registered())
    assert found["nightly-run/nightly"][0] == ["0 2 * * *"]
    assert found["monthly-close/monthly-close"][0] == ["0 3 1 * *"]
    assert found["nightly-run/nightly"][1]["warehouse_dir"] == str(tmp_path / "wh")
