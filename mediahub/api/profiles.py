"""Profiles and tokens (owner only, except listing one's own profile)."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post

from litestar.params import FromPath, JSONBody

from mediahub.api.auth import ActorDep, HubDep
from mediahub.library.profiles import ProfileView, TokenView


class NewProfile(msgspec.Struct):
    name: str


class NewToken(msgspec.Struct):
    label: str | None = None


class ProfileController(Controller):
    path = "/api"
    tags = ["profiles"]

    @get("/profiles", summary="List profiles (owner: all; a profile token: its own)")
    async def list_profiles(self, hub: HubDep, actor: ActorDep) -> list[ProfileView]:
        return hub.profiles.list(actor)

    @post("/profiles", summary="Create a profile (owner only)")
    async def create_profile(self, hub: HubDep, actor: ActorDep, data: JSONBody[NewProfile]) -> ProfileView:
        return await hub.profiles.create(actor, data.name)

    @delete("/profiles/{profile_id:str}", summary="Delete a profile and its media (owner only)")
    async def delete_profile(self, hub: HubDep, actor: ActorDep, profile_id: FromPath[str]) -> None:
        await hub.library.delete_profile(actor, profile_id)

    @post("/profiles/{profile_id:str}/tokens", summary="Create a token bound to a profile; shown once")
    async def create_token(self, hub: HubDep, actor: ActorDep, profile_id: FromPath[str], data: JSONBody[NewToken | None] = None) -> TokenView:
        return await hub.profiles.create_token(actor, profile_id, data.label if data else None)

    @delete("/tokens/{token_id:str}", summary="Revoke a profile token (owner only)")
    async def delete_token(self, hub: HubDep, actor: ActorDep, token_id: FromPath[str]) -> None:
        await hub.profiles.delete_token(actor, token_id)
