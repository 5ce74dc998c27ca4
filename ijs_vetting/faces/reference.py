"""Judging a reference (enrolment) photo from its analysis: exactly one large, sharp face.

Kept apart from `engine` and free of dlib so the process that stores templates (the GUI, the CLI)
can judge what pool workers analysed without loading the face models itself.
"""

from __future__ import annotations

from ijs_vetting.faces.results import PhotoAnalysis, ReferenceCheck, Refusal

# The same limit as identifying a face in a photo (see engine): a reference is what every later
# photo is compared with, so it must be at least as reliable.
REFERENCE_MIN_WIDTH = 80.0
REFERENCE_MIN_SHARPNESS = 50.0
# For "is someone else in the enrolment photo?": a confident face at least this fraction of the
# main face's width. Far smaller background faces do not make it unclear whose photo it is.
_REFERENCE_RIVAL_SCORE = 0.5
_REFERENCE_RIVAL_WIDTH = 0.5


def judge_reference(
    analysis: PhotoAnalysis,
    *,
    min_width: float = REFERENCE_MIN_WIDTH,
    min_sharpness: float = REFERENCE_MIN_SHARPNESS,
) -> ReferenceCheck:
    """Accept a reference photo with exactly one clear, large face, or say why not.

    `analysis` must have been made with `min_identify_width=min_width`, so that a face without
    an encoding is exactly a face that is too small.
    """
    if not analysis.faces:
        return ReferenceCheck(None, Refusal.NO_FACE, "No face was found in this picture.")
    main = max(analysis.faces, key=lambda f: f.width)
    rivals = [
        f
        for f in analysis.faces
        if f is not main
        and f.score >= _REFERENCE_RIVAL_SCORE
        and f.width >= _REFERENCE_RIVAL_WIDTH * main.width
    ]
    if rivals:
        return ReferenceCheck(
            None,
            Refusal.SEVERAL_FACES,
            f"{len(rivals) + 1} faces were found; use a picture of this person alone.",
            main,
        )
    if main.encoding is None:
        return ReferenceCheck(
            None,
            Refusal.TOO_SMALL,
            f"The face is {main.width:.0f} px wide; at least {min_width:.0f} px is needed. "
            "Use a closer or larger picture.",
            main,
        )
    if main.sharpness < min_sharpness:
        return ReferenceCheck(
            None, Refusal.BLURRED, "The face is blurred; use a sharper picture.", main
        )
    return ReferenceCheck(main.encoding, None, "Reference photo accepted.", main)
