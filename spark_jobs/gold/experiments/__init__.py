"""Gold experiment jobs (seeds 000, 001, 002), one module per table kind.

Jobs (``spark_jobs/run.py <job> --ds DS --params '{"experiment": "<name>"}'``), in order:

- SaaS funnel (exposure ``experiment_exposure``, e.g. homepage_cta_test):
  ``gold.experiments.base`` -> ``gold.experiments.outcomes`` -> ``gold.experiments.aggregated``
  and ``gold.experiments.details`` (both read the outcomes of ds);
- shop funnel (exposure ``product_view``, e.g. pdp_redesign, seed 002):
  ``gold.experiments.user_exposure`` -> ``gold.experiments.user_outcomes`` ->
  ``gold.experiments.aggregated`` (the same job; it aggregates ``gold.user_outcomes``).

Every table is rebuilt as of ds from bounded silver reads (see ``common``).
"""
