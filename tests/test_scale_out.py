"""Scale-out (transforms/partitions.py): billing the clients partition by partition writes
exactly the files of a single-process run, first runs and corrections alike. The Dask
flow on two local workers is in test_flows.py."""

import hashlib
from datetime import date, datetime
from pathlib import Path

import duckdb
from helpers import usage, write_extracts

from transforms import partitions
from transforms.pipeline import run_period
from transforms.sample_data import write_sample


def published(warehouse: Path) -> dict[str, str]:
    """Every published data file and its hash; run records are compared without their run times,
    and the state kept for the next run (`_run_state`, written in any row order) is not published."""
    return {
        str(path.relative_to(warehouse)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(warehouse.rglob("*.parquet")) if not {"runs", "_run_state"} & set(path.parts)
    }


def run_records(warehouse: Path) -> list[tuple]:
    return duckdb.sql(
        f"select * exclude (started_at, finished_at) from read_parquet('{warehouse}/runs/*/*.parquet') order by all"
    ).fetchall()


def test_partitioned_runs_publish_the_bytes_of_a_single_process_run(tmp_path):
    ex = write_sample(tmp_path / "ex", n_clients=60, n_events=30_000)
    for count in (1, 3):
        for hour, period in enumerate(("2026-08", "2026-09")):
            run_period(ex, tmp_path / f"wh{count}", period, date(2026, 9, 30), datetime(2026, 10, 1, hour),
                       validate=False, partition_count=count)
    # a correction: late usage of two clients and a client-level price change, then re-bill September
    write_extracts(ex, {"usage_events": [
        usage("FIX-1", "C0003", "sms", "2026-08-31T10:00:00Z", 40, reseller_id="R-ACME"),
        usage("FIX-2", "C0051", "whatsapp", "2026-08-31T10:00:00Z", 90, reseller_id="R-EURO"),
    ]}, file_name="fix.csv")
    for count in (1, 3):
        run_period(ex, tmp_path / f"wh{count}", "2026-09", date(2026, 10, 2), datetime(2026, 10, 2),
                   validate=False, partition_count=count)
    single, split = published(tmp_path / "wh1"), published(tmp_path / "wh3")
    assert len(single) > 30
    assert split == single
    assert run_records(tmp_path / "wh3") == run_records(tmp_path / "wh1")
    revised = duckdb.sql(
        f"select distinct client_id from read_parquet('{tmp_path}/wh3/invoices/*/*/*.parquet') where revision > 1"
    ).fetchall()
    assert {client for (client,) in revised} >= {"C0003", "C0051"}
    assert not list((tmp_path / "wh3").parent.glob("**/partition-*.duckdb"))


def test_a_partition_sees_its_own_clients_and_every_row_that_belongs_to_no_client(tmp_path):
    work = tmp_path / "work.duckdb"
    con = duckdb.connect(str(work))
    con.execute("create table int_clients_validated as select 'R1' as reseller_id, 'C' || range as client_id "
                "from range(100)")
    con.execute("create table int_pricing_validated as select 'R1' as reseller_id, "
                "case when range < 3 then null else 'C' || range end as client_id from range(10)")
    con.execute("create table run_params as select 1 as run_id")
    con.execute("create table raw_usage_events as select 'R1' as reseller_id, 'C1' as client_id")
    con.close()
    staged = duckdb.connect()
    staged.execute(f"attach '{work}' as staged (read_only)")
    tables = dict(partitions._staged_tables(staged))
    assert tables == {"int_clients_validated": True, "int_pricing_validated": True, "run_params": False}
    staged.close()
