"""loon.suite.cases: the notebook case protocol (pass/fail/skip, output, bundles, finish)."""

from __future__ import annotations

import IPython.display
import pytest

from loon.suite import cases, control
from loon.suite.cases import CASE_MIME, CaseFailures, CaseSuite


def test_pass_fail_skip_are_recorded(capsys):
    suite = CaseSuite("demo", profile="smoke")

    @suite.case
    def test_ok():
        assert 1 + 1 == 2

    @suite.case
    def test_broken():
        assert [1] == [2], "lists differ"

    @suite.case
    def test_needs_cloud():
        raise suite.Skip("cloud credentials not set: AWS_ACCESS_KEY")

    @suite.case
    def test_skips_by_function():
        cases.skip("no vortex support")

    suite.skip_case("test_never_run", "vortex is not built into this engine")

    assert [(r.name, r.status) for r in suite.results] == [
        ("test_ok", "pass"),
        ("test_broken", "fail"),
        ("test_needs_cloud", "skip"),
        ("test_skips_by_function", "skip"),
        ("test_never_run", "skip"),
    ]
    broken = suite.results[1]
    # pytest rewrites this module's asserts: the message carries the compared values.
    assert broken.message.startswith("AssertionError: lists differ\nassert [1] == [2]")
    assert "test_broken" in broken.traceback and "lists differ" in broken.traceback
    assert all(r.category == "demo" for r in suite.results)
    # The decorator returns the result of the case it ran.
    assert test_ok.status == "pass"

    out, err = capsys.readouterr()
    assert "PASS test_ok (" in out
    assert "FAIL test_broken: AssertionError: lists differ\nassert [1] == [2]" in out
    assert "SKIP test_needs_cloud: cloud credentials not set: AWS_ACCESS_KEY" in out
    assert "SKIP test_never_run: vortex is not built into this engine" in out
    assert "Traceback (most recent call last)" in err and "assert [1] == [2]" in err


def test_any_exception_is_a_failure_not_raised():
    suite = CaseSuite("demo")

    @suite.case
    def test_key_error():
        {}["missing"]

    assert suite.results[0].status == "fail"
    assert suite.results[0].message == "KeyError: 'missing'"


def test_finish_raises_naming_every_failure(capsys):
    suite = CaseSuite("demo")
    for name, ok in [("test_a", False), ("test_b", True), ("test_c", False), ("test_d", True)]:

        def body(ok=ok):
            assert ok

        suite.run(body, name=name)
    with pytest.raises(CaseFailures) as info:
        suite.finish()
    assert str(info.value) == "2 of 4 cases failed: test_a, test_c"
    assert isinstance(info.value, AssertionError)
    out = capsys.readouterr().out
    assert "demo: 2 passed, 2 failed, 0 skipped of 4 cases" in out


def test_finish_returns_summary_when_nothing_failed():
    suite = CaseSuite("demo", profile="ci")
    suite.case(lambda: None, name="test_ok")
    suite.skip_case("test_skip", "why")
    summary = suite.finish()
    assert len(summary.passed) == 1 and len(summary.skipped) == 1 and not summary.failed
    assert "1 passed, 0 failed, 1 skipped" in repr(summary)
    assert suite.profile.name == "ci"


def test_case_with_explicit_name():
    suite = CaseSuite("demo")

    @suite.case(name="test_renamed")
    def whatever():
        pass

    assert suite.results[0].name == "test_renamed"


def test_duplicate_names_are_rejected_under_the_runner(monkeypatch, tmp_path):
    # Under the runner every cell runs once: a name recorded twice is two cases with one name.
    monkeypatch.setenv(control.ENV_VAR, str(control.RunControl().write(tmp_path / "control.json")))
    suite = CaseSuite("demo")
    suite.case(lambda: None, name="test_x")
    with pytest.raises(ValueError, match="duplicate case name 'test_x'"):
        suite.case(lambda: None, name="test_x")
    with pytest.raises(ValueError, match="duplicate"):
        suite.skip_case("test_x", "again")
    assert len(suite.results) == 1


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupts_are_not_swallowed(exc):
    suite = CaseSuite("demo")

    def interrupted():
        raise exc()

    with pytest.raises(exc):
        suite.run(interrupted, name="test_interrupted")
    assert suite.results == []


def test_unknown_profile_is_an_error():
    with pytest.raises(ValueError, match="unknown profile"):
        CaseSuite("demo", profile="gigantic")


def test_bundles_under_ipython(monkeypatch):
    shown = []
    monkeypatch.setattr(cases, "_in_ipython", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    suite = CaseSuite("demo")

    @suite.case
    def test_fails():
        raise RuntimeError("boom")

    suite.skip_case("test_skipped", "no reason")
    cases.publish_engine({"path": "/lib/x.so", "kind": "loon-engine", "info": "loon 0.1"})

    (fail_bundle, raw), (skip_bundle, _), (engine_bundle, _) = shown
    assert raw is True
    assert fail_bundle[CASE_MIME] == {
        "category": "demo",
        "name": "test_fails",
        "status": "fail",
        "seconds": fail_bundle[CASE_MIME]["seconds"],
        "message": "RuntimeError: boom",
        "traceback": fail_bundle[CASE_MIME]["traceback"],
        "output": "",
        "data": [],
        "started": fail_bundle[CASE_MIME]["started"],
    }
    assert "RuntimeError: boom" in fail_bundle[CASE_MIME]["traceback"]
    assert fail_bundle["text/plain"] == "FAIL test_fails: RuntimeError: boom"
    assert skip_bundle[CASE_MIME]["status"] == "skip"
    assert engine_bundle[cases.ENGINE_MIME] == {
        "path": "/lib/x.so",
        "kind": "loon-engine",
        "info": "loon 0.1",
    }


def test_case_result_round_trip():
    result = cases.CaseResult("c", "test_x", "fail", 1.5, "msg", "tb")
    assert cases.CaseResult.from_dict(result.to_dict()) == result


def test_returned_string_is_the_pass_message(capsys):
    suite = CaseSuite("demo")

    @suite.case
    def test_notes():
        return "exercised writer.flush.fail"

    @suite.case
    def test_returns_other():
        return 42

    assert test_notes.status == "pass" and test_notes.message == "exercised writer.flush.fail"
    assert test_returns_other.status == "pass" and test_returns_other.message == ""
    assert "PASS test_notes" in capsys.readouterr().out
    assert "exercised writer.flush.fail" in suite.summary().table()


# --- one case at a time, run control ----------------------------------------------------------------


def test_calling_a_case_runs_it_again_and_replaces_its_result():
    suite = CaseSuite("demo")
    attempts = []

    @suite.case
    def test_flaky():
        attempts.append(1)
        assert len(attempts) > 1, "first attempt fails"

    assert test_flaky.status == "fail" and "first attempt fails" in test_flaky.message
    again = test_flaky()
    assert again.status == "pass" and test_flaky.status == "pass"
    assert [(r.name, r.status) for r in suite.results] == [("test_flaky", "pass")]
    assert repr(test_flaky).startswith("<Case PASS test_flaky")


def test_rerunning_a_name_interactively_replaces_it_in_place():
    suite = CaseSuite("demo")
    suite.case(lambda: None, name="test_a")
    suite.case(lambda: None, name="test_b")
    suite.case(lambda: 1 / 0, name="test_a")  # its cell executed again, edited
    assert [(r.name, r.status) for r in suite.results] == [("test_a", "fail"), ("test_b", "pass")]


def _under_runner(monkeypatch, tmp_path, **fields):
    ctl = control.RunControl(progress=str(tmp_path / "progress.jsonl"), **fields)
    monkeypatch.setenv(control.ENV_VAR, str(ctl.write(tmp_path / "control.json")))
    return tmp_path / "progress.jsonl"


def test_keyword_deselects_cases(monkeypatch, tmp_path, capsys):
    _under_runner(monkeypatch, tmp_path, keyword="rolling and not small")
    suite = CaseSuite("write_read")
    ran = []
    for name in ["test_file_rolling_by_size", "test_file_rolling_small", "test_take"]:
        suite.run(lambda name=name: ran.append(name), name=name)
    suite.skip_case("test_rolling_vortex", "no vortex")
    suite.skip_case("test_other_vortex", "no vortex")
    assert ran == ["test_file_rolling_by_size"]
    assert [r.status for r in suite.results] == ["pass", "deselected", "deselected", "skip", "deselected"]
    summary = suite.finish()
    assert "1 passed, 0 failed, 1 skipped of 2 cases, 3 deselected" in capsys.readouterr().out
    assert len(summary.deselected) == 3


def test_only_runs_the_named_cases(monkeypatch, tmp_path):
    _under_runner(monkeypatch, tmp_path, only={"demo": ["test_b"]})
    suite = CaseSuite("demo")
    for name in ["test_a", "test_b"]:
        suite.run(lambda: None, name=name)
    assert [r.status for r in suite.results] == ["deselected", "pass"]


def test_progress_events_name_each_start_and_end(monkeypatch, tmp_path):
    progress = _under_runner(monkeypatch, tmp_path)
    suite = CaseSuite("demo")

    @suite.case
    def test_prints():
        print("hello from the case")

    events = list(control.iter_events(progress))
    assert [(e["event"], e["case"]) for e in events] == [("start", "test_prints"), ("end", "test_prints")]
    assert events[1]["result"]["status"] == "pass"
    assert events[1]["result"]["output"] == "hello from the case\n"
    assert control.last_started(events) is None
    assert control.last_started(events[:1]) == "test_prints"


def test_exitfirst_raises_after_the_first_failure(monkeypatch, tmp_path):
    _under_runner(monkeypatch, tmp_path, exitfirst=True)
    suite = CaseSuite("demo")
    suite.run(lambda: None, name="test_ok")
    with pytest.raises(cases.ExitFirst, match="test_bad"):
        suite.run(lambda: 1 / 0, name="test_bad")
    assert [r.status for r in suite.results] == ["pass", "fail"]


def test_kept_data_is_noted_on_the_failing_case(monkeypatch, tmp_path):
    _under_runner(monkeypatch, tmp_path, keep_data=True)
    suite = CaseSuite("demo")

    def failing():
        assert cases.keep_failed_data()
        cases.note_kept_data("/data/demo/test_x-123")
        raise AssertionError("broken")

    result = suite.run(failing, name="test_x")
    assert result.data == ["/data/demo/test_x-123"]
    assert "dataset kept: /data/demo/test_x-123" in result.line
    assert not cases.keep_failed_data()  # only while a case runs


def test_finish_under_the_runner_reports_instead_of_raising(monkeypatch, tmp_path, capsys):
    _under_runner(monkeypatch, tmp_path)
    suite = CaseSuite("demo")
    suite.run(lambda: 1 / 0, name="test_bad")
    summary = suite.finish()
    assert [r.name for r in summary.failed] == ["test_bad"]
    assert "1 of 1 cases failed: test_bad" in capsys.readouterr().out
