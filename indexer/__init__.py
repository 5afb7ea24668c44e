"""Ingest → embed → index: reading article exports into the SQLite catalog and the FAISS index."""
