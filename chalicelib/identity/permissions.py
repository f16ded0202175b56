"""Roles, what each may do, and the one check every handler calls.

A role is a named set of permissions. Handlers ask `require(principal, "projects.write")`; nothing
else in the code compares role names.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from chalicelib.platform import problems

READ_ACCOUNT = "account.read"
MANAGE_ACCOUNT = "account.manage"  # projects, users and profiles of the account
READ_REGISTRY = "orgunits.read"
WRITE_REGISTRY = "orgunits.write"
MANAGE_FORMS = "forms.manage"
READ_SUBMISSIONS = "submissions.read"
REVIEW_SUBMISSIONS = "submissions.review"
COLLECT = "submissions.create"
RUN_TASKS = "tasks.run"
PROPOSE_CHANGES = "orgunits.propose"  # change requests: new units or new values
REVIEW_CHANGES = "orgunits.review"  # approving or rejecting them

_EVERYONE = {READ_ACCOUNT, READ_REGISTRY}

ROLES: dict[str, frozenset[str]] = {
    "registry_editor": frozenset(_EVERYONE | {WRITE_REGISTRY, RUN_TASKS, PROPOSE_CHANGES, REVIEW_CHANGES}),
    "viewer": frozenset(_EVERYONE | {READ_SUBMISSIONS}),
    "form_manager": frozenset(_EVERYONE | {MANAGE_FORMS, READ_SUBMISSIONS, RUN_TASKS}),
    "reviewer": frozenset(_EVERYONE | {READ_SUBMISSIONS, REVIEW_SUBMISSIONS, REVIEW_CHANGES}),
    "data_collector": frozenset(_EVERYONE | {COLLECT, PROPOSE_CHANGES}),
}
ROLES["admin"] = frozenset(set().union(*ROLES.values(), {MANAGE_ACCOUNT}))


class SubtreeRoot(NamedTuple):
    version_id: int
    path: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their account and role, and how they proved it; with what most
    requests ask next, read with it: the account's default version, and the roots of the subtrees a
    restricted profile is confined to (None when it is not restricted; empty when none is left)."""

    user_id: int
    email: str
    account_id: int
    role: str
    project_ids: frozenset[int] = field(default_factory=frozenset)
    via: str = "token"  # or "api_key", "password", "task"
    default_version_id: int | None = None
    subtree_roots: tuple[SubtreeRoot, ...] | None = None

    @property
    def permissions(self) -> frozenset[str]:
        return ROLES[self.role]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise problems.forbidden(permission)
