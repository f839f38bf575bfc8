"""CBV 2.0 business steps, dispositions and source/destination types: every spelling to one short name."""

from __future__ import annotations

from ..errors import InvalidArgument

CBV_URI = "https://ref.gs1.org/cbv/"

BIZ_STEPS = frozenset(
    "accepting arriving assembling collecting commissioning consigning creating_class_instance cycle_counting "
    "decommissioning departing destroying disassembling dispensing encoding entering_exiting holding inspecting "
    "installing killing loading other packing picking receiving removing repackaging repairing replacing "
    "reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing "
    "transporting unloading unpacking void_shipping".split()
)

DISPOSITIONS = frozenset(
    "active available completeness_inferred completeness_verified conformant container_closed container_open "
    "damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance "
    "mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other "
    "partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible "
    "stolen unavailable unknown".split()
)

# Source/destination types (CBV 2.0 section 7.5).
SOURCE_DEST_TYPES = frozenset({"owning_party", "possessing_party", "location"})

_PREFIXES = {
    "bizStep": (f"{CBV_URI}BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": (f"{CBV_URI}Disp-", "urn:epcglobal:cbv:disp:"),
    "sourceDestType": (f"{CBV_URI}SDT-", "urn:epcglobal:cbv:sdt:"),
}
_VOCABULARIES = {"bizStep": BIZ_STEPS, "disposition": DISPOSITIONS, "sourceDestType": SOURCE_DEST_TYPES}


def short_name(field: str, value) -> str:
    """The CBV short name of a ``bizStep``, ``disposition`` or source/destination type, in any of its spellings."""
    vocabulary = _VOCABULARIES[field]
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string")
    name = value
    for prefix in _PREFIXES[field]:
        if value.startswith(prefix):
            name = value[len(prefix):]
    if name not in vocabulary:
        raise InvalidArgument(f"{field} {value!r} is not a CBV 2.0 value")
    return name


def uri(field: str, name: str) -> str:
    """The CBV 2.0 Web URI of a short name (the form the event hash uses)."""
    return _PREFIXES[field][0] + name
