"""Harness mode: real SSH servers, real agent CLIs, a model server, judged by the same detectors."""

from ._agents import PROFILES, AgentProfile, AgentRun, agent_profile, find_cli, run_agent
from ._bridge import Brain, ModelBridge, free_port
from ._guard import HarnessGuard
from ._record import build_ledger
from ._servers import HarnessError, require_harness_host
from ._workspace import Workspace, server_factors, server_tasks

__all__ = [
    "PROFILES",
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
    "require_harness_host",
    "run_agent",
    "server_factors",
    "server_tasks",
]
