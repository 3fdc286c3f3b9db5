"""The deployments declared in prefect.yaml, as objects: `billing serve` serves them and
the tests register them against a Prefect test server (wiring only)."""

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron

ROOT = Path(__file__).resolve().parent.parent


def declared(extracts_dir: Path | None = None, warehouse_dir: Path | None = None) -> list:
    """RunnerDeployments for every deployment in prefect.yaml (paths optionally overridden)."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    result = []
    for item in spec["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / item["entrypoint"]))
        parameters = dict(item["parameters"])
        if extracts_dir is not None:
            parameters["extracts_dir"] = str(extracts_dir)
        if warehouse_dir is not None:
            parameters["warehouse_dir"] = str(warehouse_dir)
        schedules = [Cron(s["cron"], timezone=s.get("timezone", "UTC")) for s in item["schedules"]]
        result.append(flow.to_deployment(name=item["name"], parameters=parameters, schedules=schedules,
                                         description=item.get("description")))
    return result
