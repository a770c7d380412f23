"""Small server-side charts: the geometry of bar and line charts, drawn as inline SVG by templates.

No JavaScript and no library: a chart is a list of (label, value) points scaled into a fixed
view box; `templates/admin/charts/*.html` draw the SVG and the same numbers as a table.
Values are integers (minor units); labels are whatever the caller shows under each point.
"""

from collections.abc import Callable
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160
PAD_LEFT = 4
PAD_RIGHT = 4
PAD_TOP = 8
PAD_BOTTOM = 8


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: int
    x: float
    y: float
    width: float = 0.0
    height: float = 0.0
    text: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: points with SVG coordinates and the zero line."""

    chart_id: str
    title: str
    kind: str  # "bars" or "line"
    points: list[ChartPoint]
    zero_y: float
    total: int | None = None  # bar charts: the sum of their bars (a line of balances has none)
    width: int = WIDTH
    height: int = HEIGHT
    polyline: str = ""
    unit_note: str = ""
    total_text: str = ""
    value_heading: str = "Amount"


def _y_scale(values: list[int]) -> Callable[[int], float]:
    low = min([0, *values])
    high = max([0, *values])
    span = (high - low) or 1
    inner = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y_of(value: int) -> float:
        return round(PAD_TOP + (high - value) * inner / span, 2)

    return y_of


def bar_chart(*, chart_id: str, title: str, points: list[tuple[str, int]],
              text: Callable[[int], str] = str, unit_note: str = "",
              value_heading: str = "Amount") -> Chart:
    """One bar per point, from the zero line up (or down, for a negative value)."""
    values = [value for _, value in points]
    y_of = _y_scale(values)
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(len(points), 1)
    bar_width = round(max(slot * 0.8, 1), 2)
    zero_y = y_of(0)
    drawn = []
    for index, (label, value) in enumerate(points):
        top = y_of(value)
        drawn.append(ChartPoint(
            label=label, value=value, text=text(value),
            x=round(PAD_LEFT + index * slot + (slot - bar_width) / 2, 2),
            y=min(top, zero_y), width=bar_width, height=round(abs(zero_y - top), 2),
        ))
    return Chart(chart_id=chart_id, title=title, kind="bars", points=drawn, zero_y=zero_y,
                 total=sum(values), unit_note=unit_note, total_text=text(sum(values)),
                 value_heading=value_heading)


def line_chart(*, chart_id: str, title: str, points: list[tuple[str, int]],
               text: Callable[[int], str] = str, unit_note: str = "",
               value_heading: str = "Amount") -> Chart:
    """A line through the points, one marker per point, with the zero line drawn."""
    values = [value for _, value in points]
    y_of = _y_scale(values)
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(len(points) - 1, 1)
    drawn = [
        ChartPoint(label=label, value=value, text=text(value), x=round(PAD_LEFT + index * step, 2), y=y_of(value))
        for index, (label, value) in enumerate(points)
    ]
    return Chart(chart_id=chart_id, title=title, kind="line", points=drawn, zero_y=y_of(0),
                 unit_note=unit_note, value_heading=value_heading,
                 polyline=" ".join(f"{point.x},{point.y}" for point in drawn))
