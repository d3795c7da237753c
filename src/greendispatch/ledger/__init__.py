"""Green-power traceability: hourly granular certificates, storage, matching, GEC and the ledger."""
