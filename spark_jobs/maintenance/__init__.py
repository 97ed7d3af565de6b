"""Table maintenance jobs (compaction, vacuum); run by the weekly ``lakehouse_maintenance`` DAG."""
