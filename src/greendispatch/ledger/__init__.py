"""Green-power traceability: certificates, matching, storage and the verifiable ledger."""
