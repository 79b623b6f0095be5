"""Product embeddings: SigLIP (image + text), MiniLM (text), a weights-free image fallback.

`encoder_status(settings)` is the ``models`` row of `ragrec services status`: which image
and text encoders are in use here, and why SigLIP is not when it is not.
"""

from __future__ import annotations

from importlib import metadata

from ragrec.config import Settings
from ragrec.services.base import ServiceStatus


def encoder_status(settings: Settings) -> ServiceStatus:
    """Which encoders run here (loads them once; never contacts a model hub)."""
    from ragrec.embeddings.models import encoders
    from ragrec.embeddings.pipeline import current_encoder

    state = ServiceStatus(
        name="models",
        reachable=False,
        mode="offline" if settings.model_hub_offline else "hub allowed",
        listen=settings.siglip_model,
        required=False,
    )
    for package in ("torch", "transformers", "sentence-transformers"):
        try:
            state.version[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            state.version[package] = "not installed"
    try:
        encs = encoders(settings)
        image = current_encoder("image", settings, encs)
        text = current_encoder("text", settings, encs)
    except Exception as exc:  # report, never crash the status table
        state.detail = f"encoders unavailable: {type(exc).__name__}: {exc}"
        return state
    state.reachable = True
    state.version["image"] = f"{image.encoder_id} ({image.dim})"
    state.version["text"] = f"{text.encoder_id} ({text.dim})"
    parts = [f"image: {image.label}", f"text: {text.label}"]
    if encs.siglip_error:
        parts.append(f"SigLIP not in use: {encs.siglip_error}")
    state.detail = "; ".join(parts)
    return state


__all__ = ["encoder_status"]
