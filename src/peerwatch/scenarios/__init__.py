"""The study as data: factors, task definitions, datasets, the matrix of valid configurations, and the builder."""

from ._build import build_scenario, content_id
from ._data import ScenarioError, StudyData, load_task_definitions
from ._family import family_from_model, known_family, other_family
from ._matrix import enumerate_factors, factors_by_id, factors_from, validate_factors
from ._model import (
    CONDITIONS,
    DATASETS,
    INSTANTIATIONS,
    MONITORINGS,
    SUBJECTS,
    TASK_TYPES,
    EvalItem,
    Factors,
    Facts,
    ReadRequirement,
    Scenario,
)
from ._overview import TaskOverview, matrix_overview

__all__ = [
    "CONDITIONS",
    "DATASETS",
    "INSTANTIATIONS",
    "MONITORINGS",
    "SUBJECTS",
    "TASK_TYPES",
    "EvalItem",
    "Factors",
    "Facts",
    "ReadRequirement",
    "Scenario",
    "ScenarioError",
    "StudyData",
    "TaskOverview",
    "build_scenario",
    "content_id",
    "enumerate_factors",
    "factors_by_id",
    "factors_from",
    "family_from_model",
    "known_family",
    "load_task_definitions",
    "matrix_overview",
    "other_family",
    "validate_factors",
]
