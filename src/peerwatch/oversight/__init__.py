"""The oversight layer: audit log, lifecycle policy, bound approvals, claim verification. Usable without Inspect."""

from ._approval import (
    ApprovalChannel,
    ApprovalDecision,
    ApprovalRequest,
    FileChannel,
    FunctionChannel,
    decide_with,
)
from ._approval_http import ApprovalChannelError, HttpChannel, channel_from_spec
from ._approver_keys import ApproverKey, ApproverKeyError, TrustedApprovers, keystore_dir
from ._assignment import Evaluation, check_evaluation, evaluation, family_of, require_distinct_families
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
from ._guard import Guard, GuardResult
from ._keystore import KeyStore, KeyStoreError, default_keystore
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
from ._policy_load import builtin_policy_path, parse_policy
from ._policy_world import episode_context, guard_call, require_protection
from ._redact import is_dsn, redact_dsn
from ._session import AuditSession
from ._store import PostgresStore, SQLiteStore, StoreError, open_store
from ._verifier import ClaimCheck, recompute_average, recompute_grade, verify_claims
from ._verify import verify_checkpoints
from ._witness import FileWitness, PostgresWitness, Witness, WitnessError, WitnessRecord
from ._wrap import GuardDenied, guarded

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
    "Policy",
    "PolicyDecision",
    "PolicyError",
    "PostgresStore",
    "PostgresWitness",
    "ProtectedSet",
    "SQLiteStore",
    "Signer",
    "StoreError",
    "TrustedApprovers",
    "VerifyResult",
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
    "default_keystore",
    "digest",
    "episode_context",
    "evaluation",
    "family_of",
    "guard_call",
    "guarded",
    "is_dsn",
    "keystore_dir",
    "load_policy",
    "load_public_key",
    "open_store",
    "parse_checkpoint",
    "parse_policy",
    "protected_in",
    "recompute_average",
    "recompute_grade",
    "redact_dsn",
    "require_distinct_families",
    "require_protection",
    "resolve_effects",
    "verify_checkpoint",
    "verify_checkpoints",
    "verify_claims",
]
