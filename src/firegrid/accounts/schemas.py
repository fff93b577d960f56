"""API shapes of the accounts context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from firegrid.accounts.roles import Role
from firegrid.core.text import SafeLine, SafeText

#: every role of accounts/roles.py, named in the OpenAPI document (the console iterates it)
RoleName = Role

Username = Field(min_length=1, max_length=64)
Password = Field(min_length=1, max_length=1024)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: SafeLine = Username
    password: SafeText = Password
    mode: Literal["token", "cookie"] = Field(
        "token", description="token: bearer + refresh token; cookie: HttpOnly console session"
    )


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    scope_code: str
    scope_path: str
    scope_level: str
    venue_ids: list[int]
    disabled: bool
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None


class TokenOut(BaseModel):
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    access_token: str
    expires_in: int
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: UserOut


class CookieLoginOut(BaseModel):
    mode: Literal["cookie"] = "cookie"
    csrf_token: str = Field(description="Send it back as X-CSRF-Token on state-changing requests")
    expires_at: datetime
    user: UserOut


class MeOut(BaseModel):
    subject: str
    username: str
    role: str
    scope_code: str
    scope_path: str
    permissions: list[str]
    venue_ids: list[int]
    auth_method: str
    allowed_routes: list[str] | None
    user: UserOut | None


class PasswordChangeIn(Strict):
    current_password: str = Password
    new_password: str = Password


class UserCreateIn(Strict):
    username: str = Username
    role: RoleName
    scope_code: str = Field(min_length=1, max_length=32)
    password: str | None = Field(
        None, max_length=1024, description="Omit to have a strong password generated"
    )
    display_name: str = Field("", max_length=120)
    venue_ids: list[int] = Field(default_factory=list, max_length=1000)


class UserPatchIn(Strict):
    role: RoleName | None = None
    scope_code: str | None = Field(None, min_length=1, max_length=32)
    disabled: bool | None = None
    display_name: str | None = Field(None, max_length=120)
    venue_ids: list[int] | None = Field(None, max_length=1000)


class PasswordResetIn(Strict):
    password: str | None = Field(
        None, max_length=1024, description="Omit to have a strong password generated"
    )


class UserWithPasswordOut(BaseModel):
    user: UserOut
    password: str | None = Field(description="The generated password, shown once (else null)")


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None
    count: int


class ApiKeyCreateIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    role: RoleName
    scope_code: str = Field(min_length=1, max_length=32)
    routes: list[str] = Field(min_length=1, max_length=50)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: str
    scope_code: str
    routes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(BaseModel):
    api_key: ApiKeyOut
    key: str = Field(description="fgk_<id>_<secret>: shown once, store it now")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    count: int


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    kind: str
    action: str
    outcome: str
    request_id: str
    actor_subject: str
    actor_username: str
    actor_role: str
    scope_path: str
    client_ip: str
    user_agent: str
    method: str
    path: str
    status: int | None
    resource_type: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
    count: int
