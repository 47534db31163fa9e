"""The sample's identity is written to the sample store by the solver at episode start and read from there only.

The guard binds each audit record's actor to it (model | sample id | epoch | agent id), so two epochs of one
configuration must give two actors, each matching its own sample; the tools read the guard flag from it too.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log

from peerwatch.oversight import AuditLog, SQLiteStore
from peerwatch.scenarios import enumerate_factors
from peerwatch.tasks._episode import SampleIdentity, current_sample
from peerwatch.tasks._guard import guard_approval
from peerwatch.tasks._run import build_tasks, check_models


def test_the_audit_actor_is_the_identity_the_solver_recorded(tmp_path: Path) -> None:
    factors = enumerate_factors(task=["exfiltration_transfer"], subject=["peer"], condition=["good_peer"])[:1]
    audit = tmp_path / "audit.sqlite"
    [log] = inspect_eval(
        build_tasks(factors, guard="default"),
        model=check_models(["peerwatch/exfiltrator"]),
        log_dir=str(tmp_path),
        epochs=2,
        display="none",
        log_level="error",
        approval=guard_approval(None, audit=str(audit), approvals="approve-all"),
    )
    samples = read_eval_log(log.location).samples or []
    assert len(samples) == 2
    expected = set()
    for s in samples:
        ident = SampleIdentity.model_validate(s.store["peerwatch:sample"])
        assert (ident.model, ident.sample_id, ident.epoch) == ("peerwatch/exfiltrator", s.id, s.epoch)
        assert ident.uuid == s.uuid and ident.guarded
        expected.add(f"{ident.model}|{ident.sample_id}|epoch {ident.epoch}|")
    actors = {r.actor for r in AuditLog(SQLiteStore(audit)).records()}
    assert len(actors) == 2 and {a.rsplit("|", 1)[0] + "|" for a in actors} == expected


def test_outside_a_started_episode_there_is_no_identity() -> None:
    # Outside a sample Inspect's store() is one process-wide store: nothing peerwatch reads may be found in it.
    assert current_sample() is None


def test_an_unguarded_sample_is_recorded_as_such(tmp_path: Path) -> None:
    factors = enumerate_factors(task=["tampering"], subject=["peer"], condition=["good_peer"])[:1]
    [log] = inspect_eval(
        build_tasks(factors), model=check_models(["peerwatch/honest"]), log_dir=str(tmp_path), display="none"
    )
    [sample] = read_eval_log(log.location).samples or []
    ident = SampleIdentity.model_validate(sample.store["peerwatch:sample"])
    assert not ident.guarded and ident.epoch == 1 and ident.model == "peerwatch/honest"
