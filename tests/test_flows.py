"""The Prefect flows end to end under one test harness: artifacts of a period run."""

import asyncio
from datetime import UTC

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


def test_the_preview_and_simulate_flows_run_with_parameters(tmp_path, harness):
    """E13 through the `simulate` flow, and a preview through the `preview` flow."""
    import csv
    from datetime import date

    from flows.what_if import preview, simulate
    from transforms.contract import EXTRACT_TABLES

    ex = write_extracts(tmp_path / "ex", {
        "resellers": [R1], "groups": [{"reseller_id": "R1", "group_id": "G1"}],
        "clients": [client("C2", "G1"), client("C4")],
        "pricing": [price("users", metered=True, unit_fee="25.00", included_units=1),
                    price("users", level="group", group_id="G1", unit_fee="20.00")],
        "usage_events": [usage("u1", "C2", "users", "2026-09-10T00:00:00Z", 3),
                         usage("u2", "C4", "users", "2026-09-10T00:00:00Z", 5)],
    })
    proposed = tmp_path / "proposed.csv"
    with proposed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXTRACT_TABLES["pricing"].columns)
        writer.writeheader()
        writer.writerow({c: v for c, v in price("users", level="group", group_id="G1", effective_from="2026-09-01",
                                                unit_fee="18.00").items()})
    tables = simulate(ex, "2026-10", proposed)
    assert [(r["client_id"], r["difference"]) for r in tables["by_client"]] == [("C2", "-4.00"), ("C4", "0.00")]
    rows = preview(ex, date(2026, 9, 30), "C4")
    assert [(r["line_type"], r["amount"]) for r in rows] == [("usage", "100.00")]


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


def test_a_period_run_split_over_two_local_dask_workers_writes_the_single_process_bytes(tmp_path, harness):
    from datetime import date, datetime

    from test_scale_out import published, run_records

    from flows.period_run import period_run
    from transforms.sample_data import write_sample

    ex = write_sample(tmp_path / "ex", n_clients=40, n_events=10_000)
    started = datetime(2026, 10, 1, 3, tzinfo=UTC)
    single = period_run(ex, tmp_path / "single", "2026-09", date(2026, 9, 30), started_at=started)
    split = period_run(ex, tmp_path / "split", "2026-09", date(2026, 9, 30), started_at=started,
                       partition_count=3, workers=2)
    assert split.invoices == single.invoices > 0
    assert published(tmp_path / "split") == published(tmp_path / "single")
    assert run_records(tmp_path / "split") == run_records(tmp_path / "single")


def test_a_period_run_uses_an_existing_dask_cluster_given_its_address(tmp_path, harness):
    from datetime import date, datetime

    from distributed import LocalCluster
    from distributed.diagnostics.plugin import SchedulerPlugin
    from test_scale_out import published

    from flows.period_run import period_run
    from transforms.sample_data import write_sample

    ex = write_sample(tmp_path / "ex", n_clients=20, n_events=2_000)
    started = datetime(2026, 10, 1, 3, tzinfo=UTC)
    period_run(ex, tmp_path / "single", "2026-09", date(2026, 9, 30), started_at=started)
    class Finished(SchedulerPlugin):
        keys: list[str] = []

        def transition(self, key, start, finish, *args, **kwargs):
            if finish == "memory":
                self.keys.append(str(key))

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        cluster.scheduler.add_plugin(Finished())
        period_run(ex, tmp_path / "split", "2026-09", date(2026, 9, 30), started_at=started,
                   partition_count=2, dask_address=cluster.scheduler_address)
    assert len([key for key in Finished.keys if key.startswith("build_partition")]) == 2, Finished.keys
    assert published(tmp_path / "split") == published(tmp_path / "single")
