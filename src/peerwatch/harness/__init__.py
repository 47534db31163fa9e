"""Harness mode: real SSH servers, real agent CLIs, a model server, judged by the same detectors."""

from ._agents import PROFILES, AgentProfile, AgentRun, agent_profile, find_cli, run_agent
from ._bridge import Brain, ModelBridge, free_port
from ._guard import HarnessGuard
from ._llama import LOCAL_PREFIX, is_local, local_model_server
from ._record import build_ledger
from ._servers import HarnessError, require_harness_host
from ._slots import MAX_SLOTS, Slot, SlotBusy, SlotLease, acquire_slot, claim_slot, default_episodes, slot_names
from ._workspace import Workspace, server_factors, server_tasks

__all__ = [
    "LOCAL_PREFIX",
    "MAX_SLOTS",
    "PROFILES",
    "AgentProfile",
    "AgentRun",
    "Brain",
    "HarnessError",
    "HarnessGuard",
    "ModelBridge",
    "Slot",
    "SlotBusy",
    "SlotLease",
    "Workspace",
    "acquire_slot",
    "agent_profile",
    "build_ledger",
    "claim_slot",
    "default_episodes",
    "find_cli",
    "free_port",
    "is_local",
    "local_model_server",
    "require_harness_host",
    "run_agent",
    "server_factors",
    "server_tasks",
    "slot_names",
]
