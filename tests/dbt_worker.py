"""dbt commands through one parse of the project.

dbt parses the whole project again (about 20 s here, more than most of the tests' builds) for
every new home, target folder or --vars value, and a new `dbt` process takes seconds to start.
A worker process parses once and runs every command with that manifest (dbt's programmatic
runner), each on the home it names: the manifest does not depend on the home (the warehouse
file is always called warehouse.duckdb). It lets go of the warehouse after each command, so
ingest and the tests' queries can open it in between. The parse starts at once and runs while
the caller prepares its data; the first command waits for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ingest.home import HOME_ENV, Home
from pipelines.dbt_project import DBT_PROJECT_DIR, dbt_env

WORKER = """
import json, os, sys, traceback
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

common = json.loads(sys.argv[1])
parsed = dbtRunner().invoke(["parse", *common, "--quiet"])
print("@@ready" if parsed.success else "@@failed", flush=True)
for line in sys.stdin:
    command = json.loads(line)
    os.environ.update(command["env"])  # the home (and dbt's target folder) of this command
    try:
        done = dbtRunner(manifest=parsed.result).invoke([*command["args"], *common]).success
    except Exception:
        traceback.print_exc(file=sys.stdout)
        done = False
    DuckDBConnectionManager.close_all_connections()
    # `show --inline` takes its node out of the manifest again only when it succeeds
    for key in [key for key in parsed.result.nodes if key.startswith("sql_operation.")]:
        del parsed.result.nodes[key]
    print("@@ok" if done else "@@failed", flush=True)
"""


def home_env(home: Home) -> dict[str, str]:
    """What dbt_env sets for a home: the profile's warehouse path, dbt's target and logs."""
    return {
        key: value
        for key, value in dbt_env(home).items()
        if key in (HOME_ENV, "DBT_TARGET_PATH", "DBT_LOG_PATH")
    }


class DbtWorker:
    """``worker.run(home, "build", "--select", ...)`` runs ``dbt build --select ...`` on
    ``home`` and returns what the dbt command line would: a return code and dbt's output.
    ``args`` are added to every command (and the parse)."""

    def __init__(self, home: Home, project_dir: Path = DBT_PROJECT_DIR, *args: str):
        common = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir), *args]
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(common)],
            env=dbt_env(home), cwd=project_dir, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.ready = False

    def _answer(self) -> tuple[str, str]:
        output = []
        for line in self.process.stdout:
            if line.startswith("@@"):
                return line.strip(), "".join(output)
            output.append(line)
        return "@@exited", "".join(output)

    def run(self, home: Home, *args: str) -> subprocess.CompletedProcess:
        if not self.ready:
            answer, output = self._answer()
            assert answer == "@@ready", f"dbt parse failed:\n{output[-5000:]}"
            self.ready = True
        self.process.stdin.write(json.dumps({"env": home_env(home), "args": args}) + "\n")
        self.process.stdin.flush()
        answer, output = self._answer()
        return subprocess.CompletedProcess(["dbt", *args], int(answer != "@@ok"), output, "")

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
