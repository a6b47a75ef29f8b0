"""The online auction (حراج) as the transactions system runs it (issue 14 part 1), one module per step:

- `terms`: the contracts officer registers an announced auction's window and increment;
- `offers`: bidders lodge their guarantee (envelope A) and offer, each a document signed on their
  token, judged at receipt on the engine's clock and receipted with the engine's signature; what
  any bidder may see of the auction (never who offered);
- `close`: at the close, the commission's closing sitting: attendance, the result in the shape the
  Article 13 minutes are generated from (services.tender.minutes does the rest, as for other kinds).

Rules come from domain.auction.rules; tenders' minutes and Article 18 from services.tender."""
from services.auction.close import close_auction, closes_at
from services.auction.offers import Received, auction_state, lodge_guarantee, public_state, submit_offer
from services.auction.terms import is_online_auction, load_terms, register_auction

__all__ = ["Received", "auction_state", "close_auction", "closes_at", "is_online_auction", "load_terms", "lodge_guarantee",
           "public_state", "register_auction", "submit_offer"]
