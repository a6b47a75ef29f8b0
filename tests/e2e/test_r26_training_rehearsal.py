"""R26: the training package's rehearsal (pilot/scenarios/training-district-12.toml, docs/training.fa.md)
runs end to end through the real flows, store, SoftHSM tokens and signatures, with the outcomes the
guide tells the trainee to look for; and the guide names every command it teaches."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]
TRAINING = ROOT / "pilot" / "scenarios" / "training-district-12.toml"
GUIDE = ROOT / "docs" / "training.fa.md"


def test_r26_training_rehearsal_runs_with_the_outcomes_the_guide_describes(tmp_path):
    from pilot.runner import run_pilot

    report = run_pilot(TRAINING, workdir=tmp_path / "w")
    assert report["scenario"] == "training-district-12"
    assert (report["tender"]["status"], report["winner"], report["runner_up"]) == ("awarded", "b1", "b3")
    assert report["bids"]["b2"]["reason"] == "GUARANTEE_MISSING"  # the mistake the guide warns about
    assert report["minutes"]["article13"]["final"] and report["minutes"]["article18"]["notified"] == "b1"
    assert report["contract"]["status"] == "final" and report["contract"]["code"]
    assert report["status_statements"]["s1"]["result"] == "approved"
    assert report["payments"] == {"p1": {"result": "paid", "reason": None},
                                  "p2": {"result": "refused", "reason": "DUPLICATE_PAYMENT"}}
    assert report["publication"] == {"ocds_valid": True, "missing_fields": []}


def test_r26_training_guide_teaches_the_commands_that_exist():
    from typer.main import get_command

    from eproc.cli import app

    text = GUIDE.read_text(encoding="utf-8")
    assert "training-district-12.toml" in text
    root = get_command(app)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("eproc "):
            continue
        words = [w for w in stripped.split()[1:3] if not w.startswith("-")]
        group = root.commands.get(words[0])  # type: ignore[attr-defined]
        assert group is not None, f"the guide teaches an unknown command: {stripped}"
        if len(words) > 1 and hasattr(group, "commands"):
            assert words[1] in group.commands, f"the guide teaches an unknown command: {stripped}"
