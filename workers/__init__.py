"""Background jobs on RQ: queue names, enqueue defaults, job functions, the worker entry point."""
