"""Registered school devices: the policy allows photos from school iPads and the trips phone.

A change to the list re-decides the photos not yet decided (a photo held only because its camera
was unknown is released when that camera is registered; one from a retired device is held).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ijs_vetting.db.models import Device, Photo
from ijs_vetting.domain import InvalidInput, NotFound, Role
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake.deciding import redecide

DEVICE_ROLES = (Role.ADMIN,)


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
    with station.write(actor, "device.add", *DEVICE_ROLES) as w:
        _check_free(w.session, name)
        w.session.add(Device(name=name, make=make, model=model, added_by=actor.username))
        w.session.flush()
        redecided = redecide(w.session)
        w.audit(
            f"registered device {name} ({make} {model})",
            target_type="device",
            target_id=name,
            details={"make": make, "model": model, "photos_redecided": redecided},
        )
        return DeviceInfo(name, make, model, True)


def register_camera(station: Station, actor: Actor, photo_id: int, name: str) -> DeviceInfo:
    """Register the camera a photo was taken with (its EXIF make and model) as a school device:
    the reviewer who recognises a school iPad's photo need not type what the photo already says."""
    station.require(actor, "device.add", *DEVICE_ROLES)
    with station.read() as session:
        photo = session.get(Photo, photo_id)
        if photo is None:
            raise NotFound(f"There is no photo {photo_id}.")
        make, model = photo.camera_make or "", photo.camera_model or ""
    if not (make.strip() and model.strip()):
        raise InvalidInput(
            f"{photo.filename} has no camera information, so its camera cannot be registered."
        )
    return add_device(station, actor, name, make, model)


def rename_device(station: Station, actor: Actor, name: str, new_name: str) -> DeviceInfo:
    """Give a device the name the school uses for it (the iPad's label)."""
    new_name = new_name.strip()
    if not new_name:
        raise InvalidInput("A device needs a name.")
    with station.write(actor, "device.rename", *DEVICE_ROLES) as w:
        device = _device(w.session, name)
        if new_name != device.name:
            _check_free(w.session, new_name)
        device.name = new_name
        w.audit(
            f"renamed device {name} to {new_name}",
            target_type="device",
            target_id=new_name,
            details={"was": name},
        )
        return DeviceInfo(device.name, device.make, device.model, device.active)


def retire_device(station: Station, actor: Actor, name: str) -> DeviceInfo:
    """Stop accepting a device's photos (a lost or sold iPad): photos from it not yet decided go
    to review, and new ones too. The record stays, so earlier photos still name it."""
    with station.write(actor, "device.retire", *DEVICE_ROLES) as w:
        device = _device(w.session, name)
        device.active = False
        w.session.flush()
        redecided = redecide(w.session)
        w.audit(
            f"retired device {name}",
            target_type="device",
            target_id=name,
            details={"photos_redecided": redecided},
        )
        return DeviceInfo(device.name, device.make, device.model, device.active)


def _device(session: Session, name: str) -> Device:
    device = session.scalar(select(Device).where(Device.name == name))
    if device is None:
        raise NotFound(f"There is no registered device called '{name}'.")
    return device


def _check_free(session: Session, name: str) -> None:
    if session.scalar(select(Device).where(Device.name == name)):
        raise InvalidInput(f"A device called '{name}' is already registered.")


def list_devices(station: Station) -> list[DeviceInfo]:
    with station.read() as session:
        return [
            DeviceInfo(d.name, d.make, d.model, d.active)
            for d in session.scalars(select(Device).order_by(Device.name))
        ]


@dataclass(frozen=True)
class CameraSeen:
    """A camera that took imported photos but is not a registered device."""

    make: str
    model: str
    photos: int
    example_photo_id: int
    example_file: str


def unregistered_cameras(station: Station) -> list[CameraSeen]:
    """Cameras named in the photos' EXIF that no device (active or retired) matches, most photos
    first: the admin registers the school's iPads from what they actually write."""
    key = (func.lower(func.trim(Photo.camera_make)), func.lower(func.trim(Photo.camera_model)))
    with station.read() as session:
        known = {
            (d.make.strip().lower(), d.model.strip().lower())
            for d in session.scalars(select(Device))
        }
        rows = session.execute(
            select(*key, func.count(Photo.id), func.min(Photo.id))
            .where(Photo.camera_make.is_not(None), Photo.camera_model.is_not(None))
            .group_by(*key)
            .order_by(func.count(Photo.id).desc())
        ).all()
        seen = []
        for make, model, count, first in rows:
            if (make, model) in known or not make or not model:
                continue
            photo = session.get(Photo, first)
            assert photo is not None
            seen.append(
                CameraSeen(
                    (photo.camera_make or "").strip(),
                    (photo.camera_model or "").strip(),
                    int(count),
                    photo.id,
                    photo.filename,
                )
            )
        return seen
