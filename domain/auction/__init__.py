"""The online auction (حراج): an open ascending auction in a time window on the engine's clock
(tender-rules.md "Transaction kinds and procedures", `online_auction`). Pure rules (`rules`) and the
canonical documents bidders sign and the engine receipts (`documents`)."""
