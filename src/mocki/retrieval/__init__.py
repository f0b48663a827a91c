"""Retrieval: embeddings, the vector store, index construction and the merged query/answer search."""
