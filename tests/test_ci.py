"""CI runs what the README tells a reader to run: lint, then the tests."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"\*\*Run the tests\*\*.*?```bash\n(.*?)\n```", readme, re.S)
    assert found, "README.md has no **Run the tests** code block"
    return found.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command_and_lints_first():
    command = readme_test_command()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == command
    steps = [step.strip() for step in command.split("&&")]
    assert "ruff check ." in steps
    assert steps.index("ruff check .") < next(k for k, s in enumerate(steps) if s.startswith("python -m pytest"))


def test_the_conda_environment_has_no_path_to_a_cuda_torch():
    """Binder and conda users get conda-forge's CPU build of PyTorch; pip on top finds torch already there."""
    import yaml

    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert environment["channels"][0] == "conda-forge"
    assert any(d.startswith("pytorch-cpu") for d in conda)
    assert not [d for d in conda if re.match(r"(py)?torch\b(?!-cpu)|cuda|pytorch-gpu", d)]
    assert not [d for d in pip if re.search(r"torch|cuda|nvidia", d)]  # the library's own `torch>=2.4` is then met


def test_the_install_page_runs_the_readme_commands():
    """The book's install page and the README give the same pinned CPU torch and the same test command."""
    page = (ROOT / "book" / "installing.md").read_text()
    assert 'pip install torch==2.13.0 -e ".[book]"' in page
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in page
    install_and_test = readme_test_command().split("pip install -q ", 1)[1]  # torch==... -e ".[test]" && ruff ...
    assert "pip install " + install_and_test in page
    for system in ("Linux", "macOS", "Windows"):
        assert system in page
