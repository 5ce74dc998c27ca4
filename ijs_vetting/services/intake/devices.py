"""Registered school devices: the policy allows photos from school iPads and the trips phone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ijs_vetting.db.models import Device
from ijs_vetting.domain import InvalidInput, Role
from ijs_vetting.services.core.station import Actor, Station


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    make: str
    model: str
    active: bool


def add_device(station: Station, actor: Actor, name: str, make: str, model: str) -> DeviceInfo:
    """Register a device by the EXIF make and model its photos carry (admins only)."""
    name, make, model = name.strip(), make.strip(), model.strip()
    if not (name and make and model):
        raise InvalidInput("A device needs a name, an EXIF make and an EXIF model.")
    with station.write(actor, "device.add", Role.ADMIN) as w:
        if w.session.scalar(select(Device).where(Device.name == name)):
            raise InvalidInput(f"A device called '{name}' is already registered.")
        w.session.add(Device(name=name, make=make, model=model, added_by=actor.username))
        w.audit(
            f"registered device {name} ({make} {model})",
            target_type="device",
            target_id=name,
            details={"make": make, "model": model},
        )
        return DeviceInfo(name, make, model, True)


def list_devices(station: Station) -> list[DeviceInfo]:
    with station.read() as session:
        return [
            DeviceInfo(d.name, d.make, d.model, d.active)
            for d in session.scalars(select(Device).order_by(Device.name))
        ]
