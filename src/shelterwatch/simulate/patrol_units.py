"""Patrol units in the simulated night: each polls its tasks like the patrol app, drives at city
speed (`city.drive_s`), turns from a check round for a locked-door dispatch, forces a locked
door and reports what it found, through the real API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shelterwatch.simulate.city import Door, Shelter, along, drive_s

if TYPE_CHECKING:
    from shelterwatch.simulate.driver import Night


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def patrol(night: Night, token: str, lat: float, lon: float) -> None:
    """A unit on duty all night: take the first task, drive, record what it found, force a
    locked door, and say it is free again."""
    plan, headers = night.plan, auth(token)
    while night.now() < plan.night_s:
        response = await night.call("tasks", "GET", "/v1/tasks", headers=headers)
        tasks = response.json()["tasks"] if response and response.status_code == 200 else []
        task = tasks[0] if tasks else None
        if task is None or task["shelter_id"] not in night.by_id:
            await night.until(night.now() + plan.patrol_poll_s)
            continue
        took = await night.call("tasks", "POST", f"/v1/tasks/{task['id']}/take", headers=headers)
        if took is None or took.status_code >= 400:
            await night.until(night.now() + plan.patrol_poll_s)
            continue
        began, door = night.now(), night.by_id[task["shelter_id"]]
        night.on_duty[token] = began
        task, door = await _drive(night, headers, task, door, lat, lon)
        lat, lon = door.lat, door.lon
        found = night.world.found(door.id, night.now())
        body: dict[str, Any] = {"kind": found.value, "lat": lat, "lon": lon}
        if found == Door.LOCKED:
            await night.until(night.now() + plan.force_door_s)
            night.world.open(door.id, night.now())
            body["kind"] = "forced_open"
        elif found == Door.UNFIT:
            body["reason"] = "flooded"
        await night.call("tasks", "POST", f"/v1/tasks/{task['id']}/result", headers=headers,
                        json=body)
        off_duty(night, token)
        await night.call("patrols", "POST", "/v1/patrols/me", headers=headers,
                        json={"lat": lat, "lon": lon, "available": True})


async def _drive(night: Night, headers: dict[str, str], task: dict[str, Any], door: Shelter,
                 lat: float, lon: float) -> tuple[dict[str, Any], Shelter]:
    """Drive to the task's door; a unit on a check round turns for a locked-door dispatch
    (its phone sounds for a new task), from wherever it is on the way."""
    plan = night.plan
    leg_began, arrive = night.now(), night.now() + drive_s(lat, lon, door, plan)
    while task["kind"] == "check" and night.now() + plan.patrol_poll_s < arrive:
        await night.until(night.now() + plan.patrol_poll_s)
        response = await night.call("tasks", "GET", "/v1/tasks", headers=headers)
        listed = response.json()["tasks"] if response and response.status_code == 200 else []
        urgent = next((t for t in listed if t["kind"] == "open_locked"
                       and t["shelter_id"] in night.by_id), None)
        if urgent is None:
            continue
        took = await night.call("tasks", "POST", f"/v1/tasks/{urgent['id']}/take",
                               headers=headers)
        if took is None or took.status_code >= 400:
            continue
        lat, lon = along(lat, lon, door, (night.now() - leg_began) / (arrive - leg_began))
        task, door = urgent, night.by_id[urgent["shelter_id"]]
        leg_began, arrive = night.now(), night.now() + drive_s(lat, lon, door, plan)
    await night.until(arrive)
    return task, door


def off_duty(night: Night, token: str) -> None:
    """Count a unit's time on its task, within the night followed."""
    began, end = night.on_duty.pop(token), night.plan.night_s
    night.tally.patrol_busy_s += max(0.0, min(night.now(), end) - min(began, end))
