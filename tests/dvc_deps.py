"""Rewrite each dvc.yaml stage's pipeline/ deps from the import closure of its command.

Run it (``make dvc-deps``) after adding or moving a module; ``tests/test_dvc.py`` fails
until the deps cover what each stage imports. A package is listed as its folder.
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import test_dvc


def needed(repo: Path) -> dict[str, list[str]]:
    """The code deps every stage needs, by stage name."""
    need = {}
    for name, stage in test_dvc._stages(repo).items():
        command = stage["cmd"].split()[1]
        code = test_dvc._closure(repo, test_dvc._command_imports(repo, command))
        code |= test_dvc._cli_files(repo)
        code.discard(repo / "pipeline" / "__init__.py")
        listed = set()
        for path in code:
            relative = path.relative_to(repo)
            parts = relative.parts[:2] if len(relative.parts) > 2 else relative.parts
            listed.add(str(Path(*parts)))
        need[name] = sorted(listed)
    return need


def rewrite(repo: Path) -> None:
    """Replace the pipeline/ code deps in dvc.yaml, keeping data deps as they are."""
    need = needed(repo)
    out: list[str] = []
    stage = None
    in_deps = False
    for line in (repo / "dvc.yaml").read_text().splitlines():
        match = re.match(r"^  (\w+):$", line)
        if match:
            stage = match.group(1)
        if line.strip() == "deps:" and stage is not None:
            out.append(line)
            in_deps = True
            out.extend(f"      - {dep}" for dep in need[stage])
            continue
        if in_deps and line.startswith("      - "):
            dep = line[8:]
            if dep.startswith("pipeline/") and not dep.startswith("pipeline/data"):
                continue
            out.append(line)
            continue
        in_deps = False
        out.append(line)
    (repo / "dvc.yaml").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    rewrite(Path(__file__).resolve().parent.parent)
