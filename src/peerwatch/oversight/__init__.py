"""The oversight layer: audit log, lifecycle policy, bound approvals, claim verification. Usable without Inspect."""

import importlib
from typing import TYPE_CHECKING, Any

from ._approval import (
    ApprovalChannel,
    ApprovalDecision,
    ApprovalRequest,
    FileChannel,
    FunctionChannel,
    decide_with,
)
from ._approval_http import ApprovalChannelError, HttpChannel, channel_from_spec
from ._approver_keys import ApproverKey, ApproverKeyError, TrustedApprovers, keystore_dir, load_approver_key
from ._assignment import Evaluation, check_evaluation, evaluation, family_of, require_distinct_families
from ._attacks import holes, load_suite, protection_misses, run_suite
from ._audit import AuditLog, AuditRecord, VerifyResult
from ._canonical import canonical_json, digest
from ._checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointStore,
    Signer,
    load_public_key,
    parse_checkpoint,
    verify_checkpoint,
)
from ._encoded import Views, decoded_views, looks_encoded
from ._guard import Guard, GuardResult
from ._keystore import KeyStore, KeyStoreError, default_keystore
from ._mcp_rules import McpRulesError, load_mcp_rules
from ._policy import (
    Policy,
    PolicyDecision,
    PolicyError,
    ProtectedSet,
    check_assignment,
    decide,
    decide_by_name,
    load_policy,
    protected_in,
    resolve_effects,
)
from ._policy_lint import lint, policy_findings
from ._policy_load import builtin_policy_path, parse_policy, resolve_policy
from ._policy_world import episode_context, guard_call, require_protection
from ._redact import is_dsn, redact_dsn
from ._render import render_request
from ._review import Reviewer, ReviewError
from ._session import AuditSession
from ._store import PostgresStore, SQLiteStore, StoreError, open_store
from ._verifier import ClaimCheck, recompute_average, recompute_grade, verify_claims
from ._verify import VerifyInputError, verify_checkpoints, verify_store
from ._witness import FileWitness, PostgresWitness, Witness, WitnessError, WitnessRecord
from ._wrap import GuardDenied, guarded

if TYPE_CHECKING:
    from ._mcp_proxy import ProxySetupError, serve_mcp_proxy

# The MCP proxy pulls in the MCP client stack (about a second to import): loaded on first use, not with the package.
_LAZY = {"ProxySetupError": "._mcp_proxy", "serve_mcp_proxy": "._mcp_proxy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ApprovalChannel",
    "ApprovalChannelError",
    "ApprovalDecision",
    "ApprovalRequest",
    "ApproverKey",
    "ApproverKeyError",
    "AuditLog",
    "AuditRecord",
    "AuditSession",
    "Checkpoint",
    "CheckpointError",
    "CheckpointStore",
    "ClaimCheck",
    "Evaluation",
    "FileChannel",
    "FileWitness",
    "FunctionChannel",
    "Guard",
    "GuardDenied",
    "GuardResult",
    "HttpChannel",
    "KeyStore",
    "KeyStoreError",
    "McpRulesError",
    "Policy",
    "PolicyDecision",
    "PolicyError",
    "PostgresStore",
    "PostgresWitness",
    "ProtectedSet",
    "ProxySetupError",
    "ReviewError",
    "Reviewer",
    "SQLiteStore",
    "Signer",
    "StoreError",
    "TrustedApprovers",
    "VerifyInputError",
    "VerifyResult",
    "Views",
    "Witness",
    "WitnessError",
    "WitnessRecord",
    "builtin_policy_path",
    "canonical_json",
    "channel_from_spec",
    "check_assignment",
    "check_evaluation",
    "decide",
    "decide_by_name",
    "decide_with",
    "decoded_views",
    "default_keystore",
    "digest",
    "episode_context",
    "evaluation",
    "family_of",
    "guard_call",
    "guarded",
    "holes",
    "is_dsn",
    "keystore_dir",
    "lint",
    "load_approver_key",
    "load_mcp_rules",
    "load_policy",
    "load_public_key",
    "load_suite",
    "looks_encoded",
    "open_store",
    "parse_checkpoint",
    "parse_policy",
    "policy_findings",
    "protected_in",
    "protection_misses",
    "recompute_average",
    "recompute_grade",
    "redact_dsn",
    "render_request",
    "require_distinct_families",
    "require_protection",
    "resolve_effects",
    "resolve_policy",
    "run_suite",
    "serve_mcp_proxy",
    "verify_checkpoint",
    "verify_checkpoints",
    "verify_claims",
    "verify_store",
]
