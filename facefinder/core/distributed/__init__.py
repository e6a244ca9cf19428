"""Past one machine: optional back ends on existing distributed engines.

- :mod:`.ray_engine`: :class:`~.ray_engine.RayEngine`, an engine with the interface of
  :class:`facefinder.core.pipeline.Engine` whose photos are processed by a pool of Ray actors
  (each holding one Engine); :func:`facefinder.core.scan.index_folder` drives it unchanged, so
  the one library writer, resume and kill-safety are the embedded ones (extra ``facefinder[ray]``).
- :mod:`.qdrant_store`: a vector store for the library's embeddings in Qdrant, beside the
  embedded :class:`facefinder.core.hnsw_index.FaceIndex` (extra ``facefinder[qdrant]``).
- :mod:`.locations`: where a library lives (a name, a folder, or a ``qdrant://`` address),
  opening it with the right vector store, and copying a library from one kind to the other.

Nothing here imports Ray or the Qdrant client at import time: they load on first use.
"""
