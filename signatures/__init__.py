"""casetrail signatures: keys, certificates, signed step records, the Merkle log and evidence bundles.

A pure library (stdlib + cryptography + rfc8785): no Flask, no SQLAlchemy, no SpiffWorkflow, nothing
from engine/, web/ or documents/. The engine passes plain values in and stores what comes out.
The bundle and record formats are specified in docs/evidence-bundle.md.
"""
