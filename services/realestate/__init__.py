"""Real-estate transactions (R22) and barter (R23): registration with workflow, review, final
approval and publication (issue 14 part 3). See services.realestate.registration."""
from services.realestate.registration import (
    BarterInput,
    DealRequest,
    DealState,
    LeaseInput,
    PropertyInput,
    ValuationInput,
    deal_state,
    open_deal,
    publish_deal,
    run_workflow,
)

__all__ = ["BarterInput", "DealRequest", "DealState", "LeaseInput", "PropertyInput", "ValuationInput",
           "deal_state", "open_deal", "publish_deal", "run_workflow"]
