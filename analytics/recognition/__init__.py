"""Recognition: faces, lists and matching over the Milvus stores; the watch-list matcher."""
