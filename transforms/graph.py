"""The build graph of the SQL models, read from the SQL.

A model is a file of sql/staging, sql/intermediate or sql/marts; its dependencies are the
tables its SQL reads that are models too (DuckDB's own parser, `json_serialize_sql`, lists
the references; CTE names are not tables). Everything else it reads is an input the code
provides: the raw extracts (`raw_*`), what the warehouse holds (`prior_*`) and the run's
parameters (`run_params`). The order is a topological sort (graphlib), ties broken by name.

A model's header may say, on a comment line of its own:
- `-- template: NAME`: its SQL is sql/intermediate/NAME.sql filled in for the extract table
  its own name carries (int_<table>_deduplicated, int_<table>_validated);
- `-- materialize: view`: built as a view (one reader computes it in its own query);
- `-- materialize: parquet`: written to `<database>.<name>.parquet` beside the database file
  and read through a view of that name (a table in an in-memory database): for a table that
  grows with the data (from ~100K rows), where DuckDB writes Parquet faster than its own table,
  which it also compresses and checkpoints into the database file when the connection closes;
- `-- parameters: key=value`: default values of `{key}` placeholders (the ledger's source);
- `-- stage: preview`: built by the preview only;
- `-- insertion_order: free`: its table may be written in any row order (DuckDB then need not
  hold rows back to keep their order: the difference between fitting a memory limit and not
  for a month of events); only for a table read by joins and order-free aggregates alone.
A model's stage is otherwise derived: `billing` when it reads the run's parameters or the
warehouse (directly or through another model), else `ingest`.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from graphlib import TopologicalSorter

import duckdb

from transforms import assets
from transforms.contract import EXTRACT_TABLES

LAYERS = ("staging", "intermediate", "marts")
_DIRECTIVE = re.compile(r"^--\s*(template|materialize|parameters|stage|insertion_order):\s*([^\s(]+(?:\s*,\s*[^\s(]+)*)", re.M)
_INSTANCE = re.compile(r"^int_(?P<table>.+)_(deduplicated|validated)$")


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    template: str  # the SQL with its {placeholders}
    defaults: dict = field(default_factory=dict)
    materialize: str = "table"
    declared_stage: str | None = None
    keeps_insertion_order: bool = True

    def render(self, **parameters: str) -> str:
        return self.template.format(**(self.defaults | parameters)) if self.defaults or parameters else self.template

    @property
    def sql(self) -> str:
        return self.render()


def _directives(text: str) -> dict[str, str]:
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    return {key: value for key, value in _DIRECTIVE.findall(header)}


@cache
def models() -> dict[str, Model]:
    """Every model by name (template instances filled in)."""
    found = {}
    templates = {d.get("template") for d in (_directives(p.read_text()) for p in _files())} - {None}
    for path in _files():
        name, text = path.stem, path.read_text()
        if name in templates:
            continue  # a template, not a model
        directives = _directives(text)
        defaults = dict(item.split("=", 1) for item in directives.get("parameters", "").split(",") if item)
        template_name = directives.get("template")
        if template_name:
            template_text = (assets.SQL_DIR / "intermediate" / f"{template_name}.sql").read_text()
            directives = _directives(template_text) | directives
            text = _fill(template_text, name)
        found[name] = Model(name, path.parent.name, text, defaults, directives.get("materialize", "table"),
                            directives.get("stage"), directives.get("insertion_order") != "free")
    return found


def _files():
    return sorted(p for layer in LAYERS for p in (assets.SQL_DIR / layer).glob("*.sql"))


def _fill(template: str, name: str) -> str:
    """A template filled in for the extract table in the instance's name (identifiers from the
    contract, never input)."""
    table = EXTRACT_TABLES[_INSTANCE.match(name).group("table")]
    return template.replace("{table}", table.name).replace("{key_columns}", ", ".join(table.key)) \
        .replace("{key_names}", " / ".join(table.key)).replace("{key_label}", "'" + table.key_label + "'")


def references(name: str) -> frozenset[str]:
    """The tables (and views) a model's SQL reads, as DuckDB's parser sees them."""
    return _references()[name]


@cache
def _references() -> dict[str, frozenset[str]]:
    # one connection for every model: opening one costs more than parsing a model (~15 ms)
    con = duckdb.connect()
    try:
        return {name: _read_tables(name, con.execute("select json_serialize_sql($sql)",
                                                     {"sql": model.sql}).fetchone()[0])
                for name, model in models().items()}
    finally:
        con.close()


def _read_tables(name: str, serialized: str) -> frozenset[str]:
    tree = json.loads(serialized)
    if tree.get("error"):
        raise ValueError(f"cannot parse model {name}: {tree.get('error_message')}")
    tables, ctes = set(), set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                tables.add(node["table_name"])
            for entry in (node.get("cte_map") or {}).get("map", []):
                ctes.add(entry["key"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return frozenset(tables - ctes)


@cache
def dependencies() -> dict[str, frozenset[str]]:
    names = set(models())
    return {name: references(name) & names for name in models()}


@cache
def order() -> tuple[str, ...]:
    """Every model after the models it reads; ties broken by name, so the order is stable."""
    sorter = TopologicalSorter(dependencies())
    sorter.prepare()
    ordered = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered += ready
        sorter.done(*ready)
    return tuple(ordered)


@cache
def stages() -> dict[str, str]:
    """ingest, billing or preview per model (see the module docstring)."""
    result: dict[str, str] = {}
    for name in order():
        model = models()[name]
        reads_run = any(r == "run_params" or r.startswith("prior_") for r in references(name))
        after_billing = any(result[d] in ("billing", "preview") for d in dependencies()[name])
        result[name] = model.declared_stage or ("billing" if reads_run or after_billing else "ingest")
    return result


def stage(name: str) -> tuple[str, ...]:
    """The models of a stage, in build order."""
    return tuple(m for m in order() if stages()[m] == name)


def ancestors(name: str) -> set[str]:
    """Every model `name` reads, directly or not."""
    seen, todo = set(), [name]
    while todo:
        for dep in dependencies()[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def reads_raw(name: str) -> bool:
    """Whether a model reads the raw extracts (it needs every input row, not one client's)."""
    return any(r.startswith("raw_") for r in references(name))


def seeds() -> tuple[str, ...]:
    """Models that read no table at all (fixed reference data)."""
    return tuple(name for name in order() if not references(name))


def views() -> tuple[str, ...]:
    return tuple(name for name in order() if models()[name].materialize == "view")


def mermaid() -> str:
    """The lineage of the models as a Mermaid flowchart (docs/lineage.md)."""
    lines = ["flowchart LR"]
    for layer in LAYERS:
        members = [m for m in order() if models()[m].layer == layer]
        lines.append(f"  subgraph {layer}")
        lines += [f"    {m}" for m in members]
        lines.append("  end")
    for name in order():
        lines += [f"  {dep} --> {name}" for dep in sorted(dependencies()[name])]
    return "\n".join(lines)
