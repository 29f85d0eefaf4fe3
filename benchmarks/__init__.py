"""`make bench`: every performance figure of uku, each measured beside its floor in one run.

Absolute times on a shared two-core machine are noisy, so every time is reported next to the
floor it cannot beat (the same pages fetched with plain `requests`, the same rows written with a
plain `bulk_create`), measured in the same run, and the targets are ratios. Call and statement
counts are read from the sandboxes' request logs and from a counter on Django's connection,
never computed by hand.

Each measurement is a *section* (`harness.section`), a function that takes the run's sizes and
returns its figures and its targets. A feature joins the benchmark by adding a module with a
section and listing it in `SECTION_MODULES`.
"""

SECTION_MODULES = (
    "benchmarks.customers",
    "benchmarks.lists",
    "benchmarks.statistics",
    "benchmarks.status",
    "benchmarks.export",
)
