"""Finance marts of seed 004: MRR bridge, revenue, retention, user master, churn, exports."""
