"""Posted letters' settings (service.yaml ``post:``): the envelope window, return postage and
how long post takes. The builder lays the templates out from the shipped values
(scripts/templatebuild/layout.py) and the tests read them back (docs/letters.md)."""

from __future__ import annotations

import typing

from pydantic import BaseModel, ConfigDict, Field, model_validator

A4_MM = (210, 297)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Box(typing.NamedTuple):
    """A rectangle on the A4 page, in mm from its top-left corner."""

    left: float
    top: float
    right: float
    bottom: float


class WindowSettings(_Model):
    """Where an envelope's window falls on the unfolded A4 sheet (shipped: a DL window envelope
    with an A4 sheet folded in three, Royal Mail's usual 90 x 45 mm window)."""

    left_mm: float = Field(default=20, ge=0)
    top_mm: float = Field(default=45, ge=0)
    width_mm: float = Field(default=90, gt=0)
    height_mm: float = Field(default=45, gt=0)
    # A folded A4 sheet (99 x 210 mm) moves about 5 mm each way in a DL envelope (110 x 220 mm)
    slide_mm: float = Field(default=5, ge=0)


class PostSettings(_Model):
    """Posted letters: the envelope window, return postage and how long post takes."""

    window: WindowSettings = WindowSettings()
    # Nothing but white space from the address down to here (no child's name above it).
    body_top_mm: float = Field(default=100, gt=0)
    max_address_lines: int = Field(default=7, ge=2)  # name, organisation, lines and postcode
    reply_paid: bool = False  # True: a reply-paid envelope goes with every form
    postage: str = "a first class stamp"  # what a returned form needs when not reply-paid
    days_in_post: int = Field(default=2, ge=0)  # working days from posting to delivery

    @property
    def window_reach(self) -> Box:
        """Every point of the sheet the window can show at some slide: only the address here."""
        w, s = self.window, self.window.slide_mm
        return Box(w.left_mm - s, w.top_mm - s, w.left_mm + w.width_mm + s,
                   w.top_mm + w.height_mm + s)

    @property
    def address_box(self) -> Box:
        """Where the address must sit to show whole at every slide."""
        w, s = self.window, self.window.slide_mm
        return Box(w.left_mm + s, w.top_mm + s, w.left_mm + w.width_mm - s,
                   w.top_mm + w.height_mm - s)

    @model_validator(mode="after")
    def _fits(self) -> PostSettings:
        reach, inner = self.window_reach, self.address_box
        if inner.right <= inner.left or inner.bottom <= inner.top:
            raise ValueError("post.window: the slide leaves no room for the address; use a "
                             "smaller slide_mm or a larger window")
        if reach.right > A4_MM[0] or reach.bottom > A4_MM[1]:
            raise ValueError("post.window does not fit on an A4 sheet (210 x 297 mm)")
        if self.body_top_mm < reach.bottom:
            raise ValueError(f"post.body_top_mm must be at least {reach.bottom:g} (the window's "
                             f"bottom edge plus its slide) so nothing but the address shows")
        return self
