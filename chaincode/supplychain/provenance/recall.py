"""Recalls: a lot and everything made from it are flagged; Verify reports the flag."""

from __future__ import annotations

from ..errors import Conflict, InvalidArgument, LimitExceeded, NotFound
from . import access, identifiers as ids
from .ledger import LOT_ITEMS, MADE_INTO, OBJECT, Ledger

MAX_RECALLED = 1000


async def recall(ledger: Ledger, who: access.Caller, code: str, reason: str, notice: dict) -> dict:
    """Flag lot ``code`` and its downstream objects with ``notice``; returns what was flagged."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise InvalidArgument("reason must be 1 to 500 characters")
    lot_ident = ids.parse(code, (ids.LGTIN,), "lot")
    lot = await ledger.get(OBJECT, lot_ident.key)
    if lot is None:
        raise NotFound(f"lot {lot_ident.key} was never commissioned")
    access.require_can_recall(who, lot)
    if lot["recalled"]:
        raise Conflict(f"lot {lot_ident.key} was already recalled")
    notice = {**notice, "lot": lot_ident.key, "reason": reason.strip(), "by": who.msp}
    flagged, queue = {lot_ident.key: lot}, [lot_ident.key]
    while queue:
        key = queue.pop(0)
        # Recalls are never truncated: a partial recall would be worse than a refused one.
        for kind in (LOT_ITEMS, MADE_INTO):
            for attrs, _ in await ledger.scan(kind, [key], MAX_RECALLED + 1):
                target = attrs[0]
                if target in flagged:
                    continue
                if len(flagged) >= MAX_RECALLED:
                    raise LimitExceeded(f"recall of {lot_ident.key} would flag more than {MAX_RECALLED} objects")
                flagged[target] = await ledger.get(OBJECT, target)
                queue.append(target)
    for key, record in flagged.items():
        if record["recalled"] is None:
            record["recalled"] = notice
            ledger.put(OBJECT, [key], record)
    return {**notice, "flagged": sorted(flagged)}
