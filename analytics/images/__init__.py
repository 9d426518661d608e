"""LUNA's Image Store: buckets of objects (samples, source images, objects, task results) on local disk or
S3, with metadata, content types and TTL, behind one storage interface."""
