"""Legacy contract migration (R16, R21).

Rows of the old contracts system (CSV or .xlsx) are streamed (`read`), checked one by one
(`validate`) and written in batches through the unit of work (`write`): good rows become contracts
(`LEG-<unit code>-<legacy id>`), bad rows land in the correction inbox of their unit (`inbox`) with
every problem found, in Persian with its reason code. Nothing is held for the whole file, so a file
of any size imports in constant memory, and re-importing a file is harmless.
"""
from services.legacy.inbox import InboxItem, corrections
from services.legacy.read import (
                                  FIELD_LABELS,
                                  HEADER_MAP,
                                  LIST_FIELDS,
                                  OPTIONAL_COLUMNS,
                                  estimate_rows,
                                  map_header,
                                  read_rows,
)
from services.legacy.validate import (
                                  LEGACY_STAGE,
                                  PERSON_FIELDS,
                                  TEXT_LIMITS,
                                  UNASSIGNED,
                                  BadRow,
                                  DayInfo,
                                  Problem,
                                  RowValidator,
                                  UnitRef,
                                  ValidRow,
                                  problem,
)
from services.legacy.write import BATCH_SIZE, ImportResult, UnitSummary, ensure_units, import_contracts

__all__ = [
    "BATCH_SIZE", "FIELD_LABELS", "HEADER_MAP", "LEGACY_STAGE", "LIST_FIELDS", "OPTIONAL_COLUMNS", "PERSON_FIELDS",
    "TEXT_LIMITS", "UNASSIGNED",
    "BadRow", "DayInfo", "ImportResult", "InboxItem", "Problem", "RowValidator", "UnitRef", "UnitSummary", "ValidRow",
    "corrections", "ensure_units", "estimate_rows", "import_contracts", "map_header", "problem", "read_rows",
]
