"""reproduce writes one valid result file per run; table reads them beside the paper's numbers."""

import json
import math

import pytest

from pinn_tutorial.config import ConfigError
from pinn_tutorial.reproduction import reproduce, summarise, table


def test_reproduce_writes_result_files_and_table_reads_them(tmp_path):
    results = reproduce("helmholtz", budget="quick", seeds=2, out=tmp_path, methods=("M1", "M2"), progress=False)
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert files == ["helmholtz_M1_quick_seed0.json", "helmholtz_M1_quick_seed1.json",
                     "helmholtz_M2-code_quick_seed0.json", "helmholtz_M2-code_quick_seed1.json"]
    for path in tmp_path.glob("*.json"):
        result = json.loads(path.read_text())
        assert result["steps"] == 300 and math.isfinite(result["rel_l2"]) and result["paper_rel_l2"] > 0
    rows = summarise(results)
    assert [(r["method"], r["seeds"]) for r in rows] == [("M1", [0, 1]), ("M2", [0, 1])]
    m1 = rows[0]
    assert m1["mean"] == pytest.approx((results[0]["rel_l2"] + results[2]["rel_l2"]) / 2)
    text = table(tmp_path)
    assert "1.81e-01" in text and "1.27e-02" in text  # the paper's figures, from pinn_tutorial.paper


def test_unknown_benchmark_and_empty_folder_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="cavity"):
        reproduce("burgers", budget="quick")
    with pytest.raises(FileNotFoundError, match="reproduce"):
        table(tmp_path)
