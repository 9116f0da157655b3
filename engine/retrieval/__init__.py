"""Finding passages: the embedder, the HNSW vector index, full-text terms, the fusion of
both, and the small caches in front of them."""
