"""Growth marts of seed 003: daily traffic and conversion guardrails, traffic by referrer."""
