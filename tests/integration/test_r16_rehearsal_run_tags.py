"""Issue 16 part 3: a rehearsal's runs carry its unit and transaction kind, like production runs."""


def test_r16_rehearsal_runs_are_tagged_with_unit_and_kind():
    from prefect import flow
    from prefect.context import FlowRunContext

    from pilot.runner import run_tags

    seen: dict[str, set[str]] = {}

    @flow(name="tag-probe")
    def probe() -> None:
        ctx = FlowRunContext.get()
        assert ctx is not None and ctx.flow_run is not None
        seen["tags"] = set(ctx.flow_run.tags)

    with run_tags("district-12", "price_inquiry"):
        probe()
    assert {"rehearsal", "district-12", "price_inquiry"} <= seen["tags"]
