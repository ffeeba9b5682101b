"""The README's library example runs as written."""

import re

from tests.test_script import ROOT


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_library_example_runs_as_written(tmp_path, monkeypatch, capsys):
    code = readme_block("Using it as a library")
    assert len(code.strip().splitlines()) <= 20
    monkeypatch.chdir(tmp_path)  # its workdir is relative
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    results = namespace["results"]
    assert [t["name"] for t in results["tasks"]] == ["1v3", "1v2", "4v5"]
    assert (tmp_path / "runs" / "library_example" / "results.json").exists()
    frozen = results["frozen_modules"]
    assert frozen == sorted(frozen) and 1 <= frozen[0] <= 9
    assert results["final_test_accuracy"] == [t["test_accuracy"] for t in results["tasks"]]
    assert str(frozen) in capsys.readouterr().out
