"""The same batch on a real Dask cluster (two worker processes on 127.0.0.1) gives the local run's totals."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from grader.batch import BatchError, Gradebook, run_batch  # noqa: E402
from grader.pipeline import Options  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "signal-propagation"


def _table(db: Path) -> list[tuple]:
    with Gradebook.open(db) as gb:
        return [(r["student"], r["sha256"], r["error"], tuple((i["item_id"], i["points"]) for i in r["items"]))
                for r in gb.latest_results("signal-propagation")]


@pytest.mark.slow
def test_dask_cluster_matches_local_run(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    for name in ("alice", "bob", "carol", "dave"):
        shutil.copy(EXAMPLES / f"{name}.ipynb", cls / f"{name}.ipynb")
    (cls / "notes.txt").write_text("not a submission")
    opts = Options(items=("D1", "D3"))
    local = run_batch(cls, "signal-propagation", db_path=tmp_path / "local.sqlite", opts=opts, workers=2,
                      progress="quiet")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        remote = run_batch(cls, "signal-propagation", db_path=tmp_path / "dask.sqlite", opts=opts,
                           scheduler=cluster.scheduler_address, progress="quiet")
        again = run_batch(cls, "signal-propagation", db_path=tmp_path / "dask.sqlite", opts=opts,
                          scheduler=cluster.scheduler_address, progress="quiet")
        with distributed.Client(cluster.scheduler_address) as client:
            workers_used = len(client.scheduler_info()["workers"])
    assert workers_used == 2
    assert (remote.graded, remote.failed, len(remote.skipped)) == (local.graded, local.failed, len(local.skipped)) \
        == (4, 1, 1)
    assert (again.graded, again.already_done) == (0, 4)  # resume works the same way on a cluster
    assert _table(tmp_path / "dask.sqlite") == _table(tmp_path / "local.sqlite")
    for db in ("local.sqlite", "dask.sqlite"):
        con = sqlite3.connect(tmp_path / db)
        totals = con.execute("SELECT sum(score), sum(max_score) FROM results").fetchone()
        con.close()
        assert totals[1] == 24.0 and 0 < totals[0] < 24  # 4 x (D1 4 + D3 2); alice full, the others less
    with Gradebook.open(tmp_path / "dask.sqlite") as gb:
        (run,) = [r for r in gb.runs() if r["status"] == "finished"][:1]
        assert "scheduler" in run["options"] and cluster.scheduler_address in run["options"]


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    shutil.copy(EXAMPLES / "alice.ipynb", tmp_path / "alice.ipynb")
    with pytest.raises(BatchError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_batch(tmp_path, "signal-propagation", db_path=tmp_path / "g.sqlite", scheduler="tcp://127.0.0.1:9",
                  progress="quiet", scheduler_timeout_s=2)
