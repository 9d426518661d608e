"""Events: the ClickHouse warehouse, the sink, analytics and general events, statistics and SQL."""
