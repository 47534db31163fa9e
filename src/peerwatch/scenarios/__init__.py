"""The study as data: task families, factors, datasets, the matrix of valid configurations, and the builder."""

from ._build import build_scenario, content_id, harness_prompts
from ._data import ScenarioError
from ._family import family_from_model, known_family, other_family
from ._matrix import enumerate_factors, factors_by_id, factors_from, validate_factors
from ._model import (
    CONDITIONS,
    INSTANTIATIONS,
    MONITORINGS,
    SUBJECTS,
    EvalItem,
    Factors,
    Facts,
    ReadRequirement,
    Scenario,
)
from ._overview import TaskOverview, matrix_overview
from ._registry import (
    MISREP_METRIC,
    SCENARIO_DIR_ENV,
    ReferenceNumber,
    StudyData,
    dataset_names,
    families,
    family,
    load_task_definitions,
    reload_families,
    scenario_dirs,
    subjective_dataset,
    task_types,
)
from ._task_family import TaskFamily

__all__ = [
    "CONDITIONS",
    "INSTANTIATIONS",
    "MISREP_METRIC",
    "MONITORINGS",
    "SCENARIO_DIR_ENV",
    "SUBJECTS",
    "EvalItem",
    "Factors",
    "Facts",
    "ReadRequirement",
    "ReferenceNumber",
    "Scenario",
    "ScenarioError",
    "StudyData",
    "TaskFamily",
    "TaskOverview",
    "build_scenario",
    "content_id",
    "dataset_names",
    "enumerate_factors",
    "factors_by_id",
    "factors_from",
    "families",
    "family",
    "family_from_model",
    "harness_prompts",
    "known_family",
    "load_task_definitions",
    "matrix_overview",
    "other_family",
    "reload_families",
    "scenario_dirs",
    "subjective_dataset",
    "task_types",
    "validate_factors",
]
