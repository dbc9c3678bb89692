"""The parts of the composition root (dependency-injector's "decoupled packages" shape).

Each module holds one sub-container: `storage` (vector store, repository, caches), `models`
(embedding model, preprocessors, detectors, the embedder), `feedback` (verdicts, re-ranking),
`classification` (zero-shot, trained heads, retrieval) and `learning` (splits, evaluation,
fine-tuning). Each declares what it needs from the others as `providers.Dependency()`;
app/container.py wires them together and re-exports their providers under flat names.
Only app/container.py imports this package. Adapters never read settings.
"""
