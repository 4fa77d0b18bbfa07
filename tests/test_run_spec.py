"""The run spec (issue #28): one field per setting, from which the flag, the file name, the table's label, the
result file's check and the run's identity follow; and the cases where the run's identity used to be computed
several ways (F2-F5 of the probe): each run counts once, whatever its file is called."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch

from pinn_tutorial import __main__ as cli
from pinn_tutorial.methods import build
from pinn_tutorial.problems import get_problem
from pinn_tutorial.reproduction.experiments import Experiment, setting, settings

# -- a new setting is one field --------------------------------------------------------------------------------

@dataclass
class WithWarmup(Experiment):
    warmup: int = setting(0, parse=int, stem=lambda v, exp: f"_warmup{v}", label=lambda v, exp: f"{v} warm-up steps",
                          help="steps of learning-rate warm-up")


def test_a_new_setting_is_one_field_and_the_flag_stem_label_check_and_identity_follow():
    import argparse
    command = argparse.ArgumentParser()
    command.add_argument("problem")
    for f, declared in settings(WithWarmup):  # the command line's options, as spec_options makes them
        if declared.flag is not None:
            command.add_argument(declared.flag or f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                                 type=declared.parse, action="append" if declared.repeat else "store")
    args = command.parse_args(["poisson1d", "--warmup", "7"])
    run = WithWarmup("poisson1d", "M1", "quick", warmup=args.warmup)
    plain = WithWarmup("poisson1d", "M1", "quick")
    assert run.stem() == "poisson1d_M1_quick_warmup7_seed0" and plain.stem() == "poisson1d_M1_quick_seed0"
    assert run.label() == "7 warm-up steps" and plain.label() == ""
    assert run.identity()["warmup"] == 7 and run.identity() != plain.identity()
    assert WithWarmup.from_result({**plain.identity(), "method": "M1", "warmup": 7}).identity() == run.identity()


def test_the_cli_flags_come_from_the_fields():
    helps = cli.parser()._subparsers._group_actions[0].choices["train"].format_help()
    for f, declared in settings():
        if declared.flag is not None:
            assert (declared.flag or f"--{f.name.replace('_', '-')}") in helps


@pytest.mark.parametrize("argv, message", [
    (["--weighting", "gradient_norm", "--weighting-param", "alpha=lots"], "alpha takes a float"),
    (["--weighting", "gradient_norm", "--weighting-param", "temperature=1"], "has no setting 'temperature'"),
    (["--method", "M2", "--weighting-param", "form=paper"], "give --form"),
    (["--method", "M4", "--weighting", "fixed"], "M4 is modified_mlp with annealing"),
])
def test_a_bad_weighting_setting_is_one_line_and_exit_status_2(argv, message, capsys, tmp_path):
    assert cli.main(["train", "poisson1d", "--budget", "quick", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_weighting_params_are_typed_by_the_schemes_signature():
    run = Experiment("helmholtz", arch="mlp", weighting="annealing", budget="quick",
                     weighting_params={"alpha": "0.5", "update_every": "5"})
    assert run.method == "M2" and run.weighting_params == {"alpha": 0.5, "update_every": 5}
    net, weighting = build(None, get_problem("helmholtz"), arch="mlp", weighting="annealing",
                           weighting_params=run.weighting_params)
    assert (weighting.alpha, weighting.update_every) == (0.5, 5)
    assert run.stem() == "helmholtz_M2-code_quick_alpha-0.5_update_every-5_seed0"


# -- the registries drive the command line, the file names and the table's labels ----------------------------

REGISTERED = """
import sys
from pinn_tutorial.weighting import FixedWeights, register_weighting

@register_weighting
class Halved(FixedWeights):
    name = "halved"
    label = "half weights"

    def __init__(self, terms, factor: float = 0.5):
        super().__init__(terms, {t: factor for t in terms})

from pinn_tutorial import __main__ as cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_registered_weighting_reaches_the_cli_the_file_name_and_the_table(tmp_path):
    script = tmp_path / "register.py"
    script.write_text(REGISTERED)
    run = [sys.executable, str(script)]
    helps = subprocess.run([*run, "train", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert "halved" in helps.stdout
    done = subprocess.run([*run, "train", "poisson1d", "--budget", "quick", "--steps", "3", "--weighting", "halved",
                           "--weighting-param", "factor=0.25", "--out", "out", "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "out" / "poisson1d_mlp+halved_quick_3steps_factor-0.25_seed0.json"
    result = json.loads(path.read_text())
    assert result["identity"]["weighting"] == "halved" and result["method_description"] == "mlp with half weights"
    table = subprocess.run([*run, "table", "--results", "out"], capture_output=True, text=True, cwd=tmp_path)
    assert "mlp+halved" in table.stdout and "3 steps; factor=0.25" in table.stdout


# -- build ----------------------------------------------------------------------------------------------------

def test_build_leaves_the_callers_random_state_and_initialises_as_before():
    torch.manual_seed(5)
    state = torch.get_rng_state()
    net, _ = build("M4", get_problem("helmholtz"), seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    # The initialisation of e80b1e8 (torch.manual_seed(seed), then the network), rebuilt by hand.
    problem = get_problem("helmholtz")
    from pinn_tutorial.networks import ModifiedMLP
    torch.manual_seed(3)
    before = ModifiedMLP(problem.default_layers, *problem.input_scaling())
    for p, q in zip(net.state_dict().values(), before.state_dict().values(), strict=True):
        assert torch.equal(p, q)
