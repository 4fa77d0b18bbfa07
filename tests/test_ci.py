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
