"""All models, imported here so Alembic and the app see every table."""

from console.models.audit import AuditEvent
from console.models.campaigns import (
    Batch,
    Campaign,
    Enrollment,
    Message,
    MessageEvent,
    MessageTemplate,
    SandboxMessage,
    Sender,
)
from console.models.compliance import ConsentEvent, Suppression
from console.models.deals import (
    Deal,
    DealStageHistory,
    LostReason,
    Pipeline,
    PipelineStage,
)
from console.models.imports import (
    ImportJob,
    ImportReject,
    LeadSource,
    MappingPreset,
    MatchKey,
    MatchReview,
    MergeHistory,
)
from console.models.jobs import JobRun
from console.models.leads import Business, Email, Lead, Owner, Phone
from console.models.records import Note, Task
from console.models.replies import (
    Conversation,
    Draft,
    InboundMessage,
    InboxItem,
)
from console.models.skiptrace import (
    PhoneCheck,
    SkipTraceFile,
    SkipTraceFileRow,
    SkipTraceProvider,
    SkipTraceResult,
    SkipTraceRun,
)
from console.models.team import Invitation, LoginAttempt, LoginThrottle, Role, Team, User

__all__ = [
    "AuditEvent",
    "Batch",
    "Campaign",
    "Enrollment",
    "Message",
    "MessageEvent",
    "MessageTemplate",
    "SandboxMessage",
    "Sender",
    "Business",
    "ConsentEvent",
    "Conversation",
    "Deal",
    "DealStageHistory",
    "Draft",
    "InboundMessage",
    "InboxItem",
    "Email",
    "ImportJob",
    "ImportReject",
    "LeadSource",
    "LostReason",
    "MappingPreset",
    "MatchKey",
    "MatchReview",
    "MergeHistory",
    "Note",
    "JobRun",
    "Lead",
    "Invitation",
    "LoginAttempt",
    "LoginThrottle",
    "Owner",
    "Phone",
    "PhoneCheck",
    "Pipeline",
    "PipelineStage",
    "Role",
    "Task",
    "SkipTraceFile",
    "SkipTraceFileRow",
    "SkipTraceProvider",
    "SkipTraceResult",
    "SkipTraceRun",
    "Suppression",
    "Team",
    "User",
]
