"""Data the validation engine passes around: findings, documents, the result of a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: Annotation that exempts one object from named policy checks (comma-separated ids).
SKIP_ANNOTATION = "validate.propertea.io/skip"
#: Annotation that must say why, next to ``SKIP_ANNOTATION``.
SKIP_REASON_ANNOTATION = "validate.propertea.io/skip-reason"


@dataclass(frozen=True)
class Finding:
    """One problem: ``path:line: Kind/name: [check] message``."""

    path: str
    line: int | None
    check: str
    message: str
    obj: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f" {self.obj}:" if self.obj else ""
        return f"{where}:{who} [{self.check}] {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Result:
    files: set[str] = field(default_factory=set)
    documents: int = 0
    problems: list[Finding] = field(default_factory=list)
    #: Things a person should know that are not problems (a schema fallback, a skipped tool).
    notes: list[str] = field(default_factory=list)

    def add(self, path: str, line: int | None, check: str, message: str, obj: str = "") -> None:
        self.problems.append(Finding(path, line, check, message, obj))

    def merge(self, other: Result) -> None:
        self.files |= other.files
        self.documents += other.documents
        self.problems += other.problems
        self.notes += [n for n in other.notes if n not in self.notes]


@dataclass
class Doc:
    """One YAML document: where it came from, its data, and its node tree for line lookups.

    ``path``/``line`` point at the source a person edits; for objects rendered by Kustomize that is
    the source document the object was matched to (else the ``kustomization.yaml``).
    """

    path: str
    line: int
    data: Any
    node: Any = None
    #: "file" for documents read from disk, "kustomize" for rendered objects.
    origin: str = "file"
    #: Directory of the component (``deploy/<layer>/<name>``) the document belongs to, if any.
    component: str | None = None

    @property
    def is_object(self) -> bool:
        return isinstance(self.data, dict)

    @property
    def api_version(self) -> str:
        value = self.data.get("apiVersion") if self.is_object else None
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.data.get("kind") if self.is_object else None
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata") if self.is_object else None
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        value = self.metadata.get("name")
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str | None:
        value = self.metadata.get("namespace")
        return value if isinstance(value, str) else None

    @property
    def annotations(self) -> dict[str, Any]:
        value = self.metadata.get("annotations")
        return value if isinstance(value, dict) else {}

    @property
    def ref(self) -> str:
        """``Kind/name`` as printed in findings."""
        if not self.kind:
            return ""
        return f"{self.kind}/{self.name}" if self.name else self.kind

    def line_of(self, path: Sequence[Any]) -> int:
        """Line of the node at ``path`` (nearest existing parent) in this document's source."""
        from tasks.validate.yamlio import line_of

        found = line_of(self.node, path) if self.node is not None else None
        return found or self.line
