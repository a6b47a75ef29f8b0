"""The contract side of a pilot world: the outside systems (financial, project control,
transparency publisher) on the world's database, each fetching from the store-backed
transactions system, kept in world.stubs, and the scenario's contract inputs handed to the
contract flows. Calling `attach` again is harmless."""
from __future__ import annotations

from services import contract as contract_svc
from services.contract import ContractInputs


def inputs_of(scenario) -> ContractInputs:
    return contract_svc.inputs_from_scenario(scenario)


def attach(world) -> None:
    """Create the stubs on the world's engine (once) and point the contract flows at this world."""
    contract_svc.set_context(contract_svc.stub_context(world.deps, world.scenario, world.stubs))
