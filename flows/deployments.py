"""The deployments declared in prefect.yaml, as objects: `billing serve` serves them and
the tests register them against a Prefect test server (wiring only)."""

import importlib
from pathlib import Path

import yaml
from prefect.schedules import Cron

from transforms.assets import project_file


def declared(extracts_dir: Path | None = None, warehouse_dir: Path | None = None) -> list:
    """RunnerDeployments for every deployment in prefect.yaml (paths optionally overridden)."""
    spec = yaml.safe_load(project_file("prefect.yaml").read_text())
    result = []
    for item in spec["deployments"]:
        file_name, _, flow_name = item["entrypoint"].partition(":")  # flows/period_run.py:nightly_run
        flow = getattr(importlib.import_module(file_name.removesuffix(".py").replace("/", ".")), flow_name)
        parameters = dict(item["parameters"])
        if extracts_dir is not None:
            parameters["extracts_dir"] = str(extracts_dir)
        if warehouse_dir is not None:
            parameters["warehouse_dir"] = str(warehouse_dir)
        schedules = [Cron(s["cron"], timezone=s.get("timezone", "UTC")) for s in item["schedules"]]
        result.append(flow.to_deployment(name=item["name"], parameters=parameters, schedules=schedules,
                                         description=item.get("description")))
    return result
