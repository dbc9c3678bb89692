"""Category first, then the attributes of THAT category: from trained heads or zero-shot.

The labels file says which categories exist and which attributes each has. The category comes
from zero-shot (or is the only one the file defines; or, with an image-only model, from
classification by retrieval when the gallery's class is one of the file's categories); each
attribute of the predicted category comes from its trained head when asked for and usable, else
from zero-shot. What cannot be answered is said in notes, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.domain.classification import AttributePrediction, RetrievalPrediction
from app.domain.decision import AnswerThresholds, certain, decide
from app.domain.errors import ModelMismatch, NotFound
from app.domain.labels import CATEGORY, Category, LabelSet, attribute_prompts, category_prompts
from app.interfaces.heads import AttributeHeads
from app.interfaces.labels import LabelSource
from app.services.pipeline import Embedder
from app.services.zero_shot import ZeroShotClassifier

ZERO_SHOT, TRAINED, LABELS, RETRIEVAL = "zero-shot", "trained", "labels", "retrieval"


@dataclass(frozen=True)
class AttributeAnswer:
    category: AttributePrediction | None = None
    attributes: list[AttributePrediction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Whether a model said anything (the only category of the labels file is no answer)."""
        return bool(self.attributes) or (
            self.category is not None and self.category.source != LABELS
        )


@dataclass(eq=False)
class AttributeClassifier:
    labels: LabelSource
    zero_shot: ZeroShotClassifier
    heads: AttributeHeads
    embedder: Embedder
    thresholds: AnswerThresholds

    def classify(
        self,
        vectors: np.ndarray,
        use_trained: bool = False,
        retrieved: Sequence[RetrievalPrediction | None] = (),
    ) -> list[AttributeAnswer]:
        """One answer per row of `vectors` (image embeddings of the current embedder);
        `retrieved` (one per row, when known) can name the category zero-shot cannot."""
        notes: list[str] = []
        labels = self._load_labels(notes)
        heads = self._usable_heads(notes) if use_trained else set()
        if labels is None:
            return [AttributeAnswer(notes=notes) for _ in range(len(vectors))]
        categories = self._categories(labels, vectors, notes, retrieved)
        attributes, image_notes = self._per_image(labels, categories, vectors, heads)
        return [
            AttributeAnswer(categories[i], attributes[i], _unique(notes + image_notes[i]))
            for i in range(len(categories))
        ]

    def _per_image(
        self,
        labels: LabelSet,
        categories: list[AttributePrediction | None],
        vectors: np.ndarray,
        heads: set[tuple[str, str]],
    ) -> tuple[list[list[AttributePrediction]], list[list[str]]]:
        """Attributes and notes per image; images of one predicted category go together."""
        attributes: list[list[AttributePrediction]] = [[] for _ in categories]
        notes: list[list[str]] = [[] for _ in categories]
        rows: dict[str, list[int]] = {}
        for i, prediction in enumerate(categories):
            if prediction is not None and prediction.value is None:
                notes[i].append("category unsure, so its attributes are not predicted")
            elif prediction is not None:
                rows.setdefault(str(prediction.value), []).append(i)
            elif heads:
                notes[i].append(_heads_unused(heads))
        for name, members in rows.items():
            category = labels.category(name)
            assert category is not None
            columns, group_notes = self._attributes(category, vectors[members], heads)
            for i, *answers in zip(members, *columns, strict=True):
                attributes[i] += answers
                notes[i] += group_notes
        return attributes, notes

    def _load_labels(self, notes: list[str]) -> LabelSet | None:
        try:
            return self.labels.load()
        except NotFound as exc:
            notes.append(f"{exc}: no category or attributes without it")
            return None

    def _usable_heads(self, notes: list[str]) -> set[tuple[str, str]]:
        """Heads trained on the current model's embeddings; the others are named in notes."""
        stamp = self.embedder.stamp
        infos = self.heads.list()
        if not infos:
            notes.append("--use-trained: no trained heads yet (run `train`)")
        usable = set()
        for info in infos:
            if info.model_stamp == stamp:
                usable.add((info.category, info.attribute))
                continue
            notes.append(
                f"head {info.key} was trained on {info.model_stamp}, current model is {stamp}: "
                f"retrain it (`train --category {info.category} --attribute {info.attribute}`); "
                "not used"
            )
        return usable

    def _categories(
        self,
        labels: LabelSet,
        vectors: np.ndarray,
        notes: list[str],
        retrieved: Sequence[RetrievalPrediction | None] = (),
    ) -> list[AttributePrediction | None]:
        if len(labels.categories) == 1:
            only = certain(CATEGORY, labels.categories[0].name, LABELS)
            return [only] * len(vectors)
        if not self.zero_shot.available:
            from_retrieval = [_retrieved_category(labels, r) for r in retrieved]
            if not any(from_retrieval):
                notes.append(f"category: {self.zero_shot.unavailable_reason()}")
            return from_retrieval or [None] * len(vectors)
        probs = self.zero_shot.probabilities(vectors, category_prompts(labels))
        return [self._decide(CATEGORY, labels.category_names, row, ZERO_SHOT) for row in probs]

    def _attributes(
        self, category: Category, vectors: np.ndarray, heads: set[tuple[str, str]]
    ) -> tuple[list[list[AttributePrediction]], list[str]]:
        """Per attribute of the category (and per head trained for it), one prediction per row."""
        names = [a.name for a in category.attributes]
        names += sorted(a for c, a in heads if c == category.name and a not in names)
        columns, unanswered, notes = [], [], []
        for name in names:
            column = self._column(category, name, vectors, heads, notes)
            if column is None:
                unanswered.append(name)
            else:
                columns.append(column)
        if unanswered:
            why = (
                f"not in {self.labels.location}"
                if self.zero_shot.available
                else self.zero_shot.unavailable_reason()
            )
            notes.append(
                f"{category.name}: {', '.join(unanswered)} not answered: no trained head in use, "
                f"and {why}"
            )
        return columns, notes

    def _column(
        self,
        category: Category,
        name: str,
        vectors: np.ndarray,
        heads: set[tuple[str, str]],
        notes: list[str],
    ) -> list[AttributePrediction] | None:
        """One attribute for every row: its head if in use and loadable, else zero-shot."""
        if (category.name, name) in heads:
            try:
                classes, probs = self.heads.predict(
                    category.name, name, vectors, self.embedder.stamp
                )
                return [self._decide(name, classes, row, TRAINED) for row in probs]
            except ModelMismatch as exc:
                notes.append(f"{exc}; not used")
        attribute = category.attribute(name)
        if attribute is None or not self.zero_shot.available:
            return None
        probs = self.zero_shot.probabilities(vectors, attribute_prompts(category, attribute))
        return [self._decide(name, attribute.class_names, row, ZERO_SHOT) for row in probs]

    def _decide(
        self, name: str, classes: list[str], probabilities: np.ndarray, source: str
    ) -> AttributePrediction:
        return decide(name, classes, probabilities, source, self.thresholds)


def _retrieved_category(
    labels: LabelSet, retrieved: RetrievalPrediction | None
) -> AttributePrediction | None:
    """The gallery's class as the category, when it is one of the labels file's categories."""
    if retrieved is None or retrieved.class_name not in labels.category_names:
        return None
    return AttributePrediction(
        CATEGORY, retrieved.class_name, retrieved.confidence, RETRIEVAL,
        {c: p for c, p in retrieved.class_probabilities.items() if c in labels.category_names},
    )  # fmt: skip


def _heads_unused(heads: set[tuple[str, str]]) -> str:
    names = ", ".join(f"{c}/{a}" for c, a in sorted(heads))
    return (
        f"trained heads ({names}) not used: the category is unknown (zero-shot needs a text-image "
        "model, and classification by retrieval gave no class that is a category of the labels "
        "file; a labels file with a single category also works)"
    )


def _unique(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))
