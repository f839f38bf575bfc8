"""Provenance contract logic on an in-memory stub: every rule, every rejection, and state left untouched."""

from __future__ import annotations

import json

import pytest

from chaincode.supplychain.errors import ChaincodeError
from chaincode.supplychain.provenance import names
from chaincode.supplychain.provenance.access import certificate_attributes
from tests.chaincode.epcis import (CARRIER, EGGS_GTIN, OMELETTE_GTIN, STORE, commission, document, event, lgtin,
                                   org, pack, product_class, receive, sgtin, ship, sscc, temperature,
                                   transform)  # fmt: skip

P, R, L, REG = "ProducerMSP", "RetailerMSP", "LogisticsMSP", "RegulatorMSP"
EGG1, EGG2, CASE = sgtin("1"), sgtin("2"), sscc("1234567890")


def ok(chain, msp, fn, *args, **kw) -> dict:
    return json.loads(chain.call(msp, fn, *args, **kw))


def rejected(chain, msp, fn, *args, code: str, match: str, **kw) -> None:
    """The call fails with ``code`` and a message containing ``match``, and writes nothing."""
    before = dict(chain.stub.state)
    with pytest.raises(ChaincodeError) as err:
        chain.call(msp, fn, *args, **kw)
    assert str(err.value).startswith(f"{code}: "), str(err.value)
    assert match in str(err.value)
    assert chain.stub.state == before and chain.stub.events == []


@pytest.fixture
def eggs(chain):
    """Two commissioned eggs of lot L1, held by the Producer at the farm."""
    ok(chain, P, "RegisterProductClass", product_class())
    ok(chain, P, "RegisterProductClass", product_class(OMELETTE_GTIN, "Omelette"))
    ok(chain, P, "CaptureEvent", commission([EGG1, EGG2]))
    return chain


def state(chain, epc) -> dict:
    return ok(chain, P, "GetObject", epc)


def test_product_classes_are_registered_by_producers_and_read_by_anyone(chain):
    result = ok(chain, P, "RegisterProductClass", product_class())
    assert chain.stub.events[-1][0] == names.PRODUCT_CLASS_REGISTERED
    assert ok(chain, REG, "GetProductClass", EGGS_GTIN) == result
    assert result["handling"]["temperature"] == {"min": 1, "max": 8}
    rejected(chain, P, "RegisterProductClass", product_class(), code="CONFLICT", match="already registered")
    rejected(chain, R, "RegisterProductClass", product_class(OMELETTE_GTIN), code="FORBIDDEN", match="only ProducerMSP")
    rejected(chain, REG, "RegisterProductClass", product_class(OMELETTE_GTIN), code="FORBIDDEN", match="Regulator")
    rejected(chain, P, "RegisterProductClass", product_class(OMELETTE_GTIN, temperature={"min": 9, "max": 2}),
             code="INVALID_ARGUMENT", match="temperature.min is above")  # fmt: skip
    rejected(chain, P, "RegisterProductClass", product_class("80614141123459"), code="INVALID_ARGUMENT",
             match="wrong check digit")  # fmt: skip


def test_commissioning_records_origin_lot_and_custody(eggs):
    captured = json.loads(eggs.stub.events[-1][1])
    assert eggs.stub.events[-1][0] == names.EPCIS_EVENT_CAPTURED
    assert captured["hashId"] == captured["eventKey"] and captured["hashId"].startswith("ni:///sha-256;")
    egg = state(eggs, EGG1)
    assert (egg["custodian"], egg["disposition"], egg["lot"]) == (P, "active", f"/01/{EGGS_GTIN}/10/L1")
    assert egg["origin"]["ilmd"]["ex:farm"] == "Hillside Farm"
    assert state(eggs, lgtin("L1"))["producer"] == P
    assert ok(eggs, R, "GetEvent", captured["eventKey"])["recordedBy"] == P


def test_commissioning_rejections_write_nothing(eggs):
    rejected(eggs, R, "CaptureEvent", commission([sgtin("9")]), code="FORBIDDEN",
             match="only ProducerMSP members commission")  # fmt: skip
    rejected(eggs, REG, "CaptureEvent", commission([sgtin("9")]), code="FORBIDDEN", match="Regulator writes nothing")
    rejected(eggs, P, "CaptureEvent", commission([sgtin("9")]), role="auditor", code="FORBIDDEN", match="role=auditor")
    rejected(eggs, P, "CaptureEvent", commission([EGG1], time="2026-01-05T06:30:00+01:00"), code="CONFLICT",
             match="already commissioned")  # fmt: skip
    rejected(eggs, P, "CaptureEvent", commission([EGG1, EGG2]), code="CONFLICT", match="already captured")
    rejected(eggs, P, "CaptureEvent", commission([sgtin("1", "812347")]), code="NOT_FOUND", match="no product class")
    rejected(eggs, P, "CaptureEvent", commission([sgtin("9")], time="2027-01-01T00:00:00Z"), code="INVALID_ARGUMENT",
             match="later than the transaction time")  # fmt: skip
    rejected(eggs, P, "CaptureEvent", '{"type": "ObjectEvent"', code="INVALID_ARGUMENT", match="not valid JSON")


def test_an_identical_event_under_another_event_id_is_a_conflict(eggs):
    doc = json.loads(commission([EGG1, EGG2]))
    rejected(eggs, P, "CaptureEvent", json.dumps(dict(doc, eventID="urn:uuid:00000000-0000-4000-8000-000000000001")),
             code="CONFLICT", match="same event was already captured")  # fmt: skip


def test_ship_and_receive_move_custody_between_organisations(eggs):
    ok(eggs, P, "CaptureEvent", ship([EGG1]))
    assert state(eggs, EGG1)["inTransit"] is True
    rejected(eggs, R, "CaptureEvent", receive([EGG2]), code="FORBIDDEN", match="was not shipped by ProducerMSP")
    ok(eggs, L, "CaptureEvent", receive([EGG1], where=CARRIER))
    egg = state(eggs, EGG1)
    assert (egg["custodian"], egg["inTransit"], egg["location"]) == (L, False, "/414/0614141000036")
    rejected(eggs, P, "CaptureEvent", ship([EGG1], time="2026-01-05T13:00:00+01:00"), code="FORBIDDEN",
             match="held by LogisticsMSP; only its custodian")  # fmt: skip
    ok(eggs, L, "CaptureEvent", ship([EGG1], where=CARRIER, time="2026-01-05T13:00:00+01:00"))
    ok(eggs, R, "CaptureEvent", receive([EGG1], time="2026-01-05T15:00:00+01:00"))
    assert state(eggs, EGG1)["custodian"] == R
    history = ok(eggs, REG, "ItemHistory", EGG1, "2", "")
    assert [e["event"]["bizStep"] for e in history["events"]] == ["commissioning", "shipping"]
    rest = ok(eggs, REG, "ItemHistory", EGG1, "3", history["bookmark"])
    assert len(rest["events"]) == 3 and rest["bookmark"] == ""
    rejected(eggs, REG, "ItemHistory", EGG1, "201", "", code="INVALID_ARGUMENT", match="between 1 and 200")


def test_aggregation_moves_contents_with_their_case_and_traces_reach_the_farm(eggs):
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1, EGG2]))
    assert state(eggs, EGG1)["parent"] == "/00/106141412345678908"
    rejected(eggs, P, "CaptureEvent", pack(sscc("1234567891"), [EGG1]), code="CONFLICT", match="already inside")
    ok(eggs, P, "CaptureEvent", ship([CASE]))
    ok(eggs, R, "CaptureEvent", receive([CASE]))
    assert (state(eggs, EGG2)["custodian"], state(eggs, EGG2)["location"]) == (R, "/414/0614141000043")
    trace = ok(eggs, REG, "TraceUpstream", CASE)
    assert {e["relation"] for e in trace["edges"]} == {"contains", "lot"}
    assert [o["ilmd"]["ex:flock"] for o in trace["origins"]] == ["F-2025-11"] and not trace["truncated"]


def test_transformation_lineage_and_recall_flag_downstream(eggs):
    omelette = sgtin("100", "812346")
    rejected(eggs, R, "CaptureEvent", transform([EGG1], [omelette], "OM1"), code="FORBIDDEN", match="only ProducerMSP")
    ok(eggs, P, "CaptureEvent", transform([EGG1], [omelette], "OM1"))
    upstream = ok(eggs, R, "TraceUpstream", omelette)
    edge = {"from": f"/01/{OMELETTE_GTIN}/21/100", "to": f"/01/{EGGS_GTIN}/21/1", "relation": "input"}
    assert edge in upstream["edges"]
    assert "Hillside Farm" in [o["ilmd"].get("ex:farm") for o in upstream["origins"]]
    downstream = ok(eggs, REG, "TraceDownstream", lgtin("L1"))
    assert {n["id"] for n in downstream["nodes"]} >= {f"/01/{OMELETTE_GTIN}/21/100", f"/01/{OMELETTE_GTIN}/10/OM1"}
    rejected(eggs, R, "Recall", lgtin("L1"), "salmonella", code="FORBIDDEN", match="or RegulatorMSP recall")
    rejected(eggs, REG, "Recall", lgtin("L1"), "salmonella", role="auditor", code="FORBIDDEN", match="role=auditor")
    rejected(eggs, REG, "Recall", lgtin("NOPE"), "salmonella", code="NOT_FOUND", match="never commissioned")
    result = ok(eggs, REG, "Recall", lgtin("L1"), "salmonella")
    assert eggs.stub.events[-1][0] == names.LOT_RECALLED and len(result["flagged"]) == 5
    verdict = ok(eggs, "", "Verify", f"/01/{OMELETTE_GTIN}/21/100")
    assert verdict["genuine"] and verdict["recalled"] and verdict["recall"]["reason"] == "salmonella"
    rejected(eggs, P, "Recall", lgtin("L1"), "again", code="CONFLICT", match="already recalled")


def test_verify_reports_origin_custody_counterfeits_and_clones(eggs):
    verdict = ok(eggs, "", "Verify", f"https://example.org/01/{EGGS_GTIN}/10/L1/21/1")
    assert verdict["genuine"] and verdict["origin"]["ilmd"]["ex:house"] == "H2" and not verdict["recalled"]
    assert ok(eggs, "", "Verify", f"/01/{EGGS_GTIN}/10/L2/21/1")["genuine"] is False
    assert ok(eggs, "", "Verify", sgtin("404"))["genuine"] is False
    # The producer scans egg 1 at the store without any shipment: custody does not explain it.
    ok(eggs, P, "CaptureEvent", event(time="2026-01-05T07:00:00+01:00", epcList=[EGG1], action="OBSERVE",
                                      bizStep="inspecting", readPoint={"id": STORE}))  # fmt: skip
    clone = ok(eggs, "", "Verify", EGG1)
    assert clone["suspectedClone"] and clone["anomalies"][0]["observed"] == "/414/0614141000043"
    assert ok(eggs, "", "Verify", EGG2)["suspectedClone"] is False


def test_readings_flag_excursions_against_the_product_class(eggs):
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1]))
    ok(eggs, P, "CaptureEvent", temperature([CASE], 4.5))
    ok(eggs, P, "CaptureEvent", temperature([CASE], 11.0, time="2026-01-05T11:30:00+01:00"))
    series = ok(eggs, REG, "Readings", EGG1, "10", "")
    assert [(r["value"], r["excursion"]) for r in series["readings"]] == [(4.5, False), (11.0, True)]
    assert series["excursions"] == 1 and "outside 1..8" in series["readings"][1]["reason"]


def test_error_declarations_annotate_but_never_rewrite_events(eggs):
    original = json.loads(commission([EGG1, EGG2]))
    key = json.loads(eggs.stub.events[-1][1])["eventKey"]
    corrective = ["urn:uuid:00000000-0000-4000-8000-000000000002"]
    declaration = {"declarationTime": "2026-01-05T07:00:00Z", "reason": "incorrect_data",
                   "correctiveEventIDs": corrective}  # fmt: skip
    declared = dict(original, errorDeclaration=declaration)
    rejected(eggs, R, "CaptureEvent", json.dumps(declared), code="FORBIDDEN", match="may declare it erroneous")
    ok(eggs, P, "CaptureEvent", json.dumps(declared))
    stored = ok(eggs, REG, "GetEvent", key)
    assert stored["errorDeclaration"]["errorDeclaration"]["reason"] == "incorrect_data"
    assert "errorDeclaration" not in stored["event"]
    rejected(eggs, P, "CaptureEvent", json.dumps(declared), code="CONFLICT", match="already declared")


def test_non_custodians_cannot_record_events_about_an_item(eggs):
    rejected(eggs, R, "CaptureEvent", temperature([EGG1], 4.0), code="FORBIDDEN", match="only its custodian")
    rejected(eggs, P, "CaptureEvent", temperature([sgtin("77")], 4.0), code="NOT_FOUND", match="never commissioned")


def test_whoami_and_the_certificate_role_attribute(chain):
    assert ok(chain, REG, "WhoAmI") == {"mspId": REG, "role": None, "enrollmentId": None, "canWrite": False}
    assert ok(chain, P, "WhoAmI", role="auditor")["canWrite"] is False


def test_role_is_read_from_a_fabric_ca_certificate():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auditor1")])
    attrs = json.dumps({"attrs": {"role": "auditor", "hf.EnrollmentID": "auditor1"}}).encode()
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1"), attrs), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = cert.public_bytes(serialization.Encoding.PEM)
    assert certificate_attributes(pem) == {"role": "auditor", "hf.EnrollmentID": "auditor1"}
    assert certificate_attributes(cert.public_bytes(serialization.Encoding.DER))["role"] == "auditor"


def test_unpacking_releases_contents_and_only_contents_can_be_removed(eggs):
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1]))
    unpack = event("AggregationEvent", time="2026-01-05T08:30:00+01:00", parentID=CASE, childEPCs=[EGG2],
                   action="DELETE", bizStep="unpacking")  # fmt: skip
    rejected(eggs, P, "CaptureEvent", unpack, code="INVALID_ARGUMENT", match="is not inside /00/106141412345678908")
    ok(eggs, P, "CaptureEvent", unpack.replace(json.dumps(EGG2), json.dumps(EGG1)))
    assert state(eggs, EGG1)["parent"] is None
    assert ok(eggs, P, "TraceUpstream", CASE)["edges"] == []


def test_lots_commissioned_by_quantity_feed_quantity_transformations(eggs):
    liquid = "urn:epc:class:lgtin:0614141.812346.LQ1"
    bulk = event(time="2026-01-05T06:10:00+01:00", action="ADD", bizStep="commissioning",
                 quantityList=[{"epcClass": lgtin("BULK"), "quantity": 360, "uom": "H87"}],
                 ilmd={"ex:farm": "Hillside Farm", "ex:house": "H3", "ex:hen": "tag-0042"})  # fmt: skip
    ok(eggs, P, "CaptureEvent", bulk)
    made = event("TransformationEvent", time="2026-01-05T10:00:00+01:00", bizStep="commissioning",
                 inputQuantityList=[{"epcClass": lgtin("BULK"), "quantity": 360, "uom": "H87"}],
                 outputQuantityList=[{"epcClass": liquid, "quantity": 18.5, "uom": "KGM"}])  # fmt: skip
    ok(eggs, P, "CaptureEvent", made)
    origins = ok(eggs, R, "TraceUpstream", liquid)["origins"]
    assert [o["ilmd"]["ex:hen"] for o in origins] == ["tag-0042"]
    assert ok(eggs, REG, "Recall", lgtin("BULK"), "avian influenza")["flagged"] == [
        f"/01/{EGGS_GTIN}/10/BULK", f"/01/{OMELETTE_GTIN}/10/LQ1"]  # fmt: skip


def test_transaction_and_association_events_are_recorded_for_the_custodian_only(eggs):
    order = event("TransactionEvent", time="2026-01-05T07:00:00+01:00", action="ADD", epcList=[EGG1],
                  bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:PO-1"}],
                  )  # fmt: skip
    rejected(eggs, R, "CaptureEvent", order, code="FORBIDDEN", match="only its custodian")
    ok(eggs, P, "CaptureEvent", order)
    tag = event("AssociationEvent", time="2026-01-05T07:10:00+01:00", action="ADD",
                parentID="urn:epc:id:giai:0614141.T1", childEPCs=[EGG1])  # fmt: skip
    ok(eggs, P, "CaptureEvent", tag)
    types = [e["event"]["type"] for e in ok(eggs, REG, "ItemHistory", EGG1, "10", "")["events"]]
    assert types == ["ObjectEvent", "TransactionEvent", "AssociationEvent"]


def test_traces_stop_at_the_node_limit_and_say_so(eggs, monkeypatch):
    from chaincode.supplychain.provenance import queries

    monkeypatch.setattr(queries, "MAX_TRACE_NODES", 2)
    trace = ok(eggs, REG, "TraceDownstream", lgtin("L1"))
    assert trace["truncated"] is True and len(trace["nodes"]) == 2 and trace["maxNodes"] == 2


def test_a_lineage_larger_than_the_bound_is_truncated_and_says_so(eggs):
    """A pack made from more eggs than MAX_TRACE_NODES: the trace stops at the bound and reports it."""
    from chaincode.supplychain.provenance import queries

    count = queries.MAX_TRACE_NODES + 10
    many = [sgtin(f"M{n}") for n in range(count)]
    chunks = [many[i:i + 400] for i in range(0, count, 400)]
    ok(eggs, P, "CaptureEvents", document(*(commission(c, lot=f"M{i}") for i, c in enumerate(chunks))))
    batches = [sgtin(f"B{i}", "812346") for i in range(len(chunks))]
    made = [transform(c, [b], f"B{i}") for i, (c, b) in enumerate(zip(chunks, batches))]
    ok(eggs, P, "CaptureEvents", document(*made))
    trace = ok(eggs, REG, "TraceUpstream", batches[0])
    assert trace["truncated"] is False and len(trace["nodes"]) == 1 + 1 + 400 + 1  # batch, its lot, eggs, egg lot
    pack_ = sgtin("P1", "812346")
    ok(eggs, P, "CaptureEvent", transform(batches, [pack_], "P1", time="2026-01-05T11:00:00+01:00"))
    trace = ok(eggs, REG, "TraceUpstream", pack_)
    assert trace["truncated"] is True and trace["maxNodes"] == queries.MAX_TRACE_NODES
    assert len(trace["nodes"]) == queries.MAX_TRACE_NODES
    assert len({n["id"] for n in trace["nodes"]}) == queries.MAX_TRACE_NODES
    assert ok(eggs, REG, "TraceUpstream", pack_) == trace  # deterministic


def test_traces_budget_their_index_reads_and_say_when_it_ran_out(eggs, monkeypatch):
    from chaincode.supplychain.provenance import queries

    omelette = sgtin("1", "812346")
    ok(eggs, P, "CaptureEvent", transform([EGG1, EGG2], [omelette], "OM1"))
    full = ok(eggs, REG, "TraceUpstream", omelette)
    assert full["truncated"] is False and full["maxIndexReads"] == queries.MAX_TRACE_INDEX_READS
    # The omelette and its lot were made from the eggs: one index read each; the eggs and their lot need none.
    monkeypatch.setattr(queries, "MAX_TRACE_INDEX_READS", 2)
    assert ok(eggs, REG, "TraceUpstream", omelette) == {**full, "maxIndexReads": 2}
    monkeypatch.setattr(queries, "MAX_TRACE_INDEX_READS", 1)
    trace = ok(eggs, REG, "TraceUpstream", omelette)
    assert trace["truncated"] is True and trace["maxIndexReads"] == 1
    assert {e["relation"] for e in trace["edges"]} == {"lot", "input"}


def test_records_name_the_indexes_they_head_and_older_records_are_traced_in_full(eggs):
    omelette = sgtin("1", "812346")
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1]))
    ok(eggs, P, "CaptureEvent", transform([EGG2], [omelette], "OM1"))
    assert (state(eggs, CASE)["links"], state(eggs, EGG1)["links"]) == (["contents"], [])
    assert (state(eggs, omelette)["links"], state(eggs, EGG2)["links"]) == (["inputs"], ["outputs"])
    traces = [ok(eggs, REG, "TraceUpstream", c) for c in (CASE, omelette)] + [
        ok(eggs, REG, "TraceDownstream", lgtin("L1"))]  # fmt: skip
    objects = [key for key in eggs.stub.state if key.startswith("\x00prov.object\x00")]
    for key in objects:
        record = json.loads(eggs.stub.state[key])
        del record["links"]
        eggs.stub.state[key] = json.dumps(record).encode()
    assert len(objects) == 6  # two eggs, their lot, the case, the omelette and its lot
    assert [ok(eggs, REG, "TraceUpstream", c) for c in (CASE, omelette)] + [
        ok(eggs, REG, "TraceDownstream", lgtin("L1"))] == traces  # fmt: skip


def test_a_recall_too_large_to_complete_is_refused_rather_than_truncated(eggs, monkeypatch):
    from chaincode.supplychain.provenance import recall

    monkeypatch.setattr(recall, "MAX_RECALLED", 2)
    rejected(eggs, REG, "Recall", lgtin("L1"), "salmonella", code="LIMIT_EXCEEDED", match="more than 2 objects")


def test_queries_reject_bad_arguments(eggs):
    rejected(eggs, REG, "ItemHistory", EGG1, "ten", "", code="INVALID_ARGUMENT", match="page_size must be an integer")
    rejected(eggs, REG, "Readings", EGG1, "0", "", code="INVALID_ARGUMENT", match="between 1 and 200")
    rejected(eggs, REG, "ItemHistory", EGG1, "5", "\x00", code="INVALID_ARGUMENT", match="bookmark")
    rejected(eggs, REG, "GetEvent", "urn:uuid:unknown", code="NOT_FOUND", match="no event")
    rejected(eggs, REG, "TraceUpstream", sgtin("404"), code="NOT_FOUND", match="never commissioned")
    rejected(eggs, REG, "Recall", EGG1, "x", code="INVALID_ARGUMENT", match="is a sgtin, expected lgtin")


EGG3, EGG4 = sgtin("3"), sgtin("4")


def unpack(parent: str, children: list[str], time: str = "2026-01-05T08:30:00+01:00") -> str:
    return event("AggregationEvent", time=time, parentID=parent, childEPCs=children, action="DELETE",
                 bizStep="unpacking")  # fmt: skip


def test_a_document_is_captured_in_order_with_later_events_seeing_earlier_ones(eggs):
    doc = document(commission([EGG3, EGG4], lot="L2"), pack(CASE, [EGG3, EGG4]),
                   temperature([CASE], 4.0), ship([CASE]))  # fmt: skip
    result = ok(eggs, P, "CaptureEvents", doc)
    assert eggs.stub.events == [(names.EPCIS_EVENTS_CAPTURED, eggs.stub.events[0][1])]
    assert json.loads(eggs.stub.events[0][1]) == result
    captured = result["captured"]
    assert [(c["type"], c["bizStep"]) for c in captured] == [
        ("ObjectEvent", "commissioning"), ("AggregationEvent", "packing"), ("ObjectEvent", "sensor_reporting"),
        ("ObjectEvent", "shipping")]  # fmt: skip
    assert set(captured[0]) == {"eventKey", "hashId", "type", "bizStep", "recordedBy", "objects"}
    # The shipment moves what was packed earlier in the same document (a range read of buffered writes).
    assert set(captured[3]["objects"]) == {"/00/106141412345678908", f"/01/{EGGS_GTIN}/21/3",
                                           f"/01/{EGGS_GTIN}/21/4"}  # fmt: skip
    assert state(eggs, EGG3)["inTransit"] is True and state(eggs, EGG3)["parent"] == "/00/106141412345678908"
    assert ok(eggs, REG, "Readings", EGG4, "10", "")["readings"][0]["value"] == 4.0
    for entry in captured:
        assert ok(eggs, REG, "GetEvent", entry["eventKey"])["hashId"] == entry["hashId"]
    ok(eggs, R, "CaptureEvent", receive([CASE]))
    assert state(eggs, EGG4)["custodian"] == R


def test_a_failing_event_names_its_position_and_nothing_of_the_document_is_written(eggs):
    doc = document(commission([EGG3], lot="L2"), ship([EGG3]), ship([EGG1], time="2026-01-05T09:30:00+01:00"))
    rejected(eggs, R, "CaptureEvents", doc, code="FORBIDDEN",
             match="event 1 (ObjectEvent commissioning): only ProducerMSP members commission")  # fmt: skip
    failing = document(commission([EGG3], lot="L2"), pack(CASE, [EGG3]), pack(sscc("1234567891"), [EGG3]))
    rejected(eggs, P, "CaptureEvents", failing, code="CONFLICT",
             match="event 3 (AggregationEvent packing): /01/80614141123458/21/3 is already inside /00/1061414123456")
    rejected(eggs, P, "CaptureEvents", document(ship([EGG1]), temperature([sgtin("77")], 4.0)), code="NOT_FOUND",
             match="event 2 (ObjectEvent sensor_reporting): /01/80614141123458/21/77 was never")  # fmt: skip
    rejected(eggs, P, "CaptureEvents", document(ship([EGG1]), event(action="ADD")), code="INVALID_ARGUMENT",
             match="event 2 (ObjectEvent): ObjectEvent needs a non-empty epcList")  # fmt: skip
    rejected(eggs, P, "CaptureEvents", json.dumps([json.loads(commission([EGG1, EGG2]))]), code="CONFLICT",
             match="event 1 (ObjectEvent commissioning): event ni:///sha-256;")  # fmt: skip
    assert state(eggs, EGG1)["inTransit"] is False
    assert ok(eggs, REG, "Verify", EGG3)["genuine"] is False


def test_duplicates_inside_a_document_are_a_conflict(eggs):
    twice = document(ship([EGG1]), temperature([EGG1], 5.0), ship([EGG1]))
    rejected(eggs, P, "CaptureEvents", twice, code="CONFLICT",
             match="event 3 (ObjectEvent shipping): it repeats event 1 of this document")  # fmt: skip
    same_id = json.loads(ship([EGG2], time="2026-01-05T09:10:00+01:00"))
    same_id["eventID"] = "urn:uuid:00000000-0000-4000-8000-00000000000a"
    other = dict(json.loads(temperature([EGG2], 5.0)), eventID=same_id["eventID"])
    rejected(eggs, P, "CaptureEvents", json.dumps([same_id, other]), code="CONFLICT",
             match="event 2 (ObjectEvent sensor_reporting urn:uuid:00000000-0000-4000-8000-00000000000a): it repeats")


def test_error_declarations_inside_a_document(eggs):
    committed = json.loads(eggs.stub.events[-1][1])["eventKey"]
    declaration = {"declarationTime": "2026-01-05T07:00:00Z", "reason": "incorrect_data"}
    first = ship([EGG1])
    declared_now = dict(json.loads(first), errorDeclaration=declaration)
    declared_before = dict(json.loads(commission([EGG1, EGG2])), errorDeclaration=declaration)
    result = ok(eggs, P, "CaptureEvents", json.dumps([json.loads(first), declared_now, declared_before]))
    shipped, on_shipped, on_commission = result["captured"]
    assert on_shipped["eventKey"] == shipped["eventKey"] and on_shipped["objects"] == []
    assert on_shipped["errorDeclaration"]["errorDeclaration"]["reason"] == "incorrect_data"
    assert on_commission["eventKey"] == committed
    assert ok(eggs, REG, "GetEvent", shipped["eventKey"])["errorDeclaration"]["by"] == P
    rejected(eggs, P, "CaptureEvents", json.dumps([declared_now]), code="CONFLICT",
             match="event 1 (ObjectEvent shipping): an error was already declared")  # fmt: skip
    twice = json.dumps([dict(json.loads(temperature([EGG2], 6.0)), errorDeclaration=declaration)])
    rejected(eggs, P, "CaptureEvents", twice, code="NOT_FOUND",
             match="event 1 (ObjectEvent sensor_reporting): no event")  # fmt: skip


def test_unpacking_earlier_in_a_document_keeps_the_removed_item_out_of_the_shipment(eggs):
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1, EGG2]))
    result = ok(eggs, P, "CaptureEvents", document(unpack(CASE, [EGG1]), ship([CASE])))
    assert EGG1 not in result["captured"][1]["objects"]
    assert (state(eggs, EGG1)["inTransit"], state(eggs, EGG2)["inTransit"]) == (False, True)
    everything = document(unpack(CASE, [EGG2], time="2026-01-05T09:30:00+01:00"), pack(sscc("1234567891"), [EGG2],
                          time="2026-01-05T09:40:00+01:00"))  # fmt: skip
    rejected(eggs, R, "CaptureEvents", everything, code="FORBIDDEN", match="event 1 (AggregationEvent unpacking)")


def test_documents_are_checked_before_any_event(eggs, monkeypatch):
    from chaincode.supplychain.provenance import events

    for text, message in [
        ("{", "not valid JSON"),
        ("[]", "has no events"),
        ('"x"', "must be an EPCISDocument object or a JSON array"),
        (json.dumps({"type": "EPCISQueryDocument"}), "document type must be EPCISDocument"),
        (document(ship([EGG1])).replace('"2.0"', '"1.2"'), 'schemaVersion must be "2.0"'),
        (document(ship([EGG1])).replace('"2026-01-05T16:00:00Z"', '"today"'), "creationDate"),
        (json.dumps({"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-05T16:00:00Z",
                     "epcisBody": {"event": {}}}), "epcisBody must be an object with an eventList"),
        (json.dumps([1]), "event 1 (not an object): an event must be a JSON object"),
    ]:
        rejected(eggs, P, "CaptureEvents", text, code="INVALID_ARGUMENT", match=message)
    monkeypatch.setattr(events, "MAX_EVENTS_PER_CAPTURE", 2)
    rejected(eggs, P, "CaptureEvents", document(ship([EGG1]), ship([EGG2]), temperature([EGG1], 3.0)),
             code="LIMIT_EXCEEDED", match="at most 2 events, this one has 3")  # fmt: skip
    monkeypatch.setattr(events, "MAX_DOCUMENT_BYTES", 100)
    rejected(eggs, P, "CaptureEvents", document(ship([EGG1])), code="INVALID_ARGUMENT", match="larger than 100 bytes")


def test_documents_inherit_the_document_context_and_capture_event_gives_the_same_hash(eggs):
    single = json.loads(ship([EGG1]))
    in_doc = ok(eggs, P, "CaptureEvents", document(json.dumps(single)))["captured"][0]
    stored = ok(eggs, REG, "GetEvent", in_doc["eventKey"])["event"]
    assert stored["@context"][1] == {"ex": "https://example.org/epcis/"}
    rejected(eggs, P, "CaptureEvent", json.dumps(dict(single, **{"@context": stored["@context"]})), code="CONFLICT",
             match="already captured")  # fmt: skip


def test_ledger_scan_merges_writes_buffered_in_the_transaction(fake_stub):
    import asyncio
    import types

    from chaincode.supplychain.provenance.ledger import CONTAINS, Ledger

    ledger = Ledger(types.SimpleNamespace(get_stub=lambda: fake_stub))
    for child in ("b", "d", "f", "h"):
        fake_stub.state[ledger.key(CONTAINS, "P", child)] = b"{}"
    fake_stub.state[ledger.key(CONTAINS, "Q", "a")] = b"{}"
    ledger.put(CONTAINS, ["P", "a"], {"n": 1})
    ledger.put(CONTAINS, ["P", "e"], {})
    ledger.put(CONTAINS, ["P", "z"], {})
    ledger.put(CONTAINS, ["Q", "b"], {})
    ledger.delete(CONTAINS, "P", "b")
    ledger.delete(CONTAINS, "P", "d")
    ledger.delete(CONTAINS, "P", "x")  # never existed

    def scan(limit: int, start: str = "") -> list[str]:
        return [attrs[0] for attrs, _ in asyncio.run(ledger.scan(CONTAINS, ["P"], limit, start))]

    assert scan(100) == ["a", "e", "f", "h", "z"]
    assert [scan(n) for n in (1, 2, 3, 4)] == [["a"], ["a", "e"], ["a", "e", "f"], ["a", "e", "f", "h"]]
    assert scan(2, "c") == ["e", "f"] and scan(10, "g") == ["h", "z"]
    assert asyncio.run(ledger.scan(CONTAINS, ["P"], 1))[0][1] == {"n": 1}
    asyncio.run(ledger.flush())
    assert scan(100) == ["a", "e", "f", "h", "z"]


def test_a_shipment_is_received_only_by_a_member_it_was_sent_to(eggs):
    to_retailer = [("possessing_party", org(R)), ("location", STORE),
                   ("owning_party", "urn:epc:id:pgln:0614141.00002")]  # fmt: skip
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG1]))
    ok(eggs, P, "CaptureEvents", document(ship([CASE], to=to_retailer), ship([EGG2])))
    assert state(eggs, CASE)["shippedTo"] == [R] and state(eggs, EGG1)["shippedTo"] == [R]
    assert state(eggs, EGG2)["shippedTo"] is None
    rejected(eggs, L, "CaptureEvent", receive([CASE], where=CARRIER), code="FORBIDDEN",
             match="/00/106141412345678908 was shipped to RetailerMSP; LogisticsMSP cannot receive it")  # fmt: skip
    rejected(eggs, L, "CaptureEvents", document(receive([EGG2], where=CARRIER), receive([CASE], where=CARRIER)),
             code="FORBIDDEN", match="event 2 (ObjectEvent receiving): /00/106141412345678908 was shipped to")
    ok(eggs, L, "CaptureEvent", receive([EGG2], where=CARRIER))  # no destinationList: anyone may receive
    ok(eggs, R, "CaptureEvent", receive([CASE]))
    assert (state(eggs, EGG1)["custodian"], state(eggs, EGG1)["shippedTo"]) == (R, None)


def test_destination_parties_in_every_cbv_spelling_and_the_senders_own_return(eggs):
    via_carrier = [("https://ref.gs1.org/cbv/SDT-possessing_party", org(L)),
                   ("urn:epcglobal:cbv:sdt:owning_party", org(R))]  # fmt: skip
    ok(eggs, P, "CaptureEvent", ship([EGG1], to=via_carrier))
    assert state(eggs, EGG1)["shippedTo"] == [L, R]
    ok(eggs, P, "CaptureEvent", ship([EGG2], to=[("owning_party", org(R))]))
    ok(eggs, P, "CaptureEvent", receive([EGG2], where=CARRIER))  # the sender still holds it: a return
    ok(eggs, L, "CaptureEvent", receive([EGG1], where=CARRIER))
    assert state(eggs, EGG1)["custodian"] == L
    for bad, message in [
        ([("location", org(R))], "its type must be owning_party or possessing_party"),
        ([("owning_party", "urn:supplychain:org:")], "must be urn:supplychain:org:<MSP ID>"),
        ([("owning_party", "urn:supplychain:org:Retailer MSP")], "must be urn:supplychain:org:<MSP ID>"),
    ]:
        rejected(eggs, L, "CaptureEvent", ship([EGG1], time="2026-01-05T13:00:00+01:00", to=bad),
                 code="INVALID_ARGUMENT", match=message)  # fmt: skip


PARIS, VERSAILLES, LYON = "geo:48.8566,2.3522", "geo:48.8049,2.1204", "geo:45.764,4.8357"


def test_a_serial_verified_in_two_places_custody_does_not_explain_is_a_suspected_clone(eggs):
    first = ok(eggs, R, "RecordScan", EGG1, PARIS, role="verifier")
    assert first["recorded"] and first["scan"]["explained"] == "first recorded scan" and not first["suspectedClone"]
    assert eggs.stub.events[-1][0] == names.ITEM_SCANNED
    nearby = ok(eggs, R, "RecordScan", EGG1, VERSAILLES, role="verifier")  # 18 km away: the same place
    assert nearby["scan"]["explained"] == "same place as the previous scan" and not nearby["suspectedClone"]
    far = ok(eggs, P, "RecordScan", EGG1, LYON)
    assert far["scan"]["explained"] is None and far["suspectedClone"]
    assert far["anomalies"] == [{"kind": "scan", "expected": VERSAILLES, "observed": LYON, "time": far["scan"]["time"],
                                 "previousTime": nearby["scan"]["time"], "txId": far["scan"]["txId"]}]
    assert ok(eggs, "", "Verify", EGG1)["scans"]["count"] == 3
    # After custody moved the egg (it was packed and shipped), a scan elsewhere is explained.
    ok(eggs, P, "CaptureEvent", pack(CASE, [EGG2]))
    moved = ok(eggs, R, "RecordScan", EGG2, PARIS, role="verifier")
    ok(eggs, P, "CaptureEvent", ship([CASE]))
    assert ok(eggs, R, "RecordScan", EGG2, LYON, role="verifier")["scan"]["explained"] == "custody changed since the previous scan"
    assert not moved["suspectedClone"]


def test_scans_are_refused_with_nothing_written_for_bad_places_and_read_only_callers(eggs):
    rejected(eggs, REG, "RecordScan", EGG1, PARIS, code="FORBIDDEN", match="Regulator")
    rejected(eggs, R, "RecordScan", EGG1, PARIS, role="auditor", code="FORBIDDEN", match="role=auditor")
    rejected(eggs, R, "RecordScan", EGG1, "geo:91,2", code="INVALID_ARGUMENT", match="outside latitude")
    rejected(eggs, R, "RecordScan", EGG1, "the shop", code="INVALID_ARGUMENT", match="geo URI")
    rejected(eggs, R, "CaptureEvent", commission([sgtin("9")]), role="verifier", code="FORBIDDEN",
             match="verification scans and nothing else")  # fmt: skip
    before = dict(eggs.stub.state)
    unknown = ok(eggs, R, "RecordScan", sgtin("404"), PARIS, role="verifier")
    assert unknown["genuine"] is False and unknown["recorded"] is False and eggs.stub.state == before
