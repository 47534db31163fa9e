"""Harness mode: real SSH servers, real agent CLIs, a model server, judged by the same detectors."""

from ._agents import PROFILES, AgentProfile, AgentRun, agent_profile, find_cli, run_agent
from ._bridge import Brain, ModelBridge, free_port
from ._guard import HarnessGuard
from ._llama import LOCAL_PREFIX, is_local, local_model_server
from ._record import build_ledger
from ._servers import HarnessError, require_harness_host
from ._workspace import SERVER_TASKS, Workspace, server_factors

__all__ = [
    "LOCAL_PREFIX",
    "PROFILES",
    "SERVER_TASKS",
    "AgentProfile",
    "AgentRun",
    "Brain",
    "HarnessError",
    "HarnessGuard",
    "ModelBridge",
    "Workspace",
    "agent_profile",
    "build_ledger",
    "find_cli",
    "free_port",
    "is_local",
    "local_model_server",
    "require_harness_host",
    "run_agent",
    "server_factors",
]
