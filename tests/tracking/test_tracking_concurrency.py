"""Two OS processes logging to one SQLite file at once: no lock error, no lost point."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import modelward as mw

WRITER = """
import sys, time
import modelward as mw

url, artifacts, run_id, worker, batches, start_at = sys.argv[1:7]
client = mw.Client(url, artifacts=artifacts)
while time.time() < float(start_at):  # both processes start writing at the same instant
    time.sleep(0.001)
for b in range(int(batches)):
    step = int(worker) * 1_000_000 + b
    client.log_batch(run_id, metrics=[(f"m{k}", b + k / 10, step) for k in range(5)])
    client.log_batch(run_id, tags={f"w{worker}": str(b)})
client.close()
print("done")
"""


def test_two_processes_log_to_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    artifacts = str(tmp_path / "artifacts")
    client = mw.Client(url, artifacts=artifacts)
    run = client.start_run("concurrent")
    batches = 200
    start_at = time.time() + 3  # time for both interpreters to import and connect
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                url,
                artifacts,
                run.id,
                str(w),
                str(batches),
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and out.strip() == "done"
    history = {k: client.get_metric_history(run.id, f"m{k}") for k in range(5)}
    assert all(len(points) == 2 * batches for points in history.values())
    assert sorted({p.step for p in history[0]}) == sorted(
        w * 1_000_000 + b for w in (1, 2) for b in range(batches)
    )
    spans = [[p.timestamp for p in history[0] if p.step // 1_000_000 == w] for w in (1, 2)]
    assert min(spans[1]) < max(spans[0]) and min(spans[0]) < max(spans[1]), "no overlap"
    info = client.get_run(run.id)
    assert info.metrics["m0"] == batches - 1  # worker 2's last step is the highest
    assert info.tags["w1"] == info.tags["w2"] == str(batches - 1)
    events = list(client.iter_audit_events(entity_id=run.id, action="run.log_batch"))
    assert len(events) == 4 * batches
    assert client.verify_audit().intact
    client.close()
