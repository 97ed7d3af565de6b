# The project's commands. A newcomer needs two: `make demo` and `make test`.
SHELL := /bin/bash
# `make demo` runs the compact world (include/generator/worlds.py: both experiments decided in
# 5 days of 50k events); given START, DAYS or SCALE (the long form), the repository's own
# experiments and generator (WORLD=default) over those days
ifeq ($(origin WORLD),undefined)
WORLD := $(if $(filter command line environment,$(origin START) $(origin DAYS) $(origin SCALE)),default,compact)
endif
START ?= 2024-01-01
DAYS ?= 3
SCALE ?= 20000
# one clock for all of a `make demo` (set-up, then the run): the scripts' [  Ns] progress lines
# and the demo's phase times count from here
LAKEHOUSE_T0 := $(shell date +%s)
export LAKEHOUSE_T0

.PHONY: demo setup test test-unit airflow airflow-stop services stop spark-sql catalog thrift lint bench bench-truth clean-state

demo: setup            ## set everything up, run the pipeline (the compact world, or DAYS days from START), show the decisions
	scripts/demo.sh "$(START)" "$(DAYS)" "$(SCALE)" "$(WORLD)"

setup:                 ## install and start everything (safe to run twice)
	scripts/setup.sh

test: setup            ## the whole test suite (unit, integration against MinIO, the DAG end to end)
	scripts/run_tests.sh

test-unit:             ## only the fast tests (no services)
	. scripts/env.sh && env -u LAKEHOUSE_EXPERIMENTS_DIR LAKEHOUSE_WORLD=default pytest -m "not integration and not e2e" tests

airflow:               ## start Airflow (UI on 127.0.0.1:8080, scheduler, DAG processor)
	scripts/airflow.sh start

airflow-stop:
	scripts/airflow.sh stop

services:              ## start MinIO, PostgreSQL and the Spark engine (Spark Connect server)
	scripts/services.sh start

stop: airflow-stop     ## stop everything the project started
	scripts/thrift.sh stop
	scripts/services.sh stop

spark-sql:             ## a Spark SQL shell on the shared metastore: SELECT * FROM gold.agg_website_events
	. scripts/env.sh && python scripts/spark_conf.py >/dev/null && spark-sql

catalog:               ## column comments and gold.<table>_current views on every existing table
	. scripts/env.sh && python spark_jobs/run.py maintenance.catalog --ds $$(date -u +%F)

thrift:                ## the Spark Thrift server (JDBC on 127.0.0.1:10000) for beeline / BI tools
	scripts/thrift.sh start

lint:
	. scripts/env.sh && ruff check .

bench:
	. scripts/env.sh && python bench/bench_generator.py && python bench/bench_pipeline.py && python bench/bench_readout.py

bench-truth:           ## the truth run: 12 generated days, both readouts against the planted truth (~35 min)
	. scripts/env.sh && python bench/bench_truth.py
