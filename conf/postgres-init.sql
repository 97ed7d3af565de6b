CREATE DATABASE metastore;
CREATE DATABASE airflow_tests;  -- the tests' own Airflow (tests/conftest.py)
