"""Inline-SVG charts for the self-contained HTML reports (no JavaScript, no network).

Every chart is :data:`WIDTH` wide with the same plot margins, so charts stacked on a page
that get the same ``x_range`` share one axis pixel for pixel. A chart's legend sits in rows
above its plot (wrapping before the right edge), so no label runs under it; labels are
spaced by a generous estimate of their width (:data:`CHAR_W`). Colours come from the caller
(:func:`colors_for`: one per name, the same in every chart), else from :data:`PALETTE`.
Each function returns an ``<svg class="chart">`` element as a string; all text is escaped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Callable, Iterable, Mapping, Optional, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
TOTAL_COLOR = "#333333"  # the total of all endpoints, wherever it appears
WIDTH = 960
MARGIN_L, MARGIN_R, MARGIN_B = 76, 30, 46
PLOT_H = 210
LEGEND_TOP, LEGEND_ROW = 40, 18  # baseline of the first legend row, row height (px)
CHAR_W = 7.2  # px per character at 11-12 px sans-serif, rounded up (wide letters included)

Ticks = Callable[[float, float], list[tuple[float, str]]]


@dataclass(frozen=True)
class Series:
    """One line: ``points`` ``(x, y)``, its ``color``, an SVG ``dash`` pattern ("" = solid),
    and ``markers``: points drawn as hollow circles (e.g. figures resting on few samples)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str
    dash: str = ""
    width: float = 1.8
    markers: Sequence[tuple[float, float]] = ()


def colors_for(names: Iterable[str]) -> dict[str, str]:
    """One colour per name, in the given order (the same name keeps its colour in every chart)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def plot(series: Sequence[Series], *, title: str, x_label: str, y_label: str,
         x_range: Optional[tuple[float, float]] = None, x_ticks: Optional[Ticks] = None,
         notes: Sequence[str] = (), marks: Sequence[tuple[float, float, str]] = ()) -> str:
    """Lines with axes, ticks and a legend above the plot (``notes``: extra legend text, e.g.
    what a marker means). ``x_range`` fixes the x axis (charts sharing it line up).
    ``marks``: ``(x, y, note)`` points circled in red (class ``mark``, the note as tooltip)."""
    finite = [p for s in series for p in s.points if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not finite:
        return message_chart(title, "no data")
    x0, x1 = x_range or (min(p[0] for p in finite), max(p[0] for p in finite))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = max(p[1] for p in finite) * 1.08 or 1.0
    legend, top = _legend([(s.name, s.color, s.dash) for s in series], notes)
    height = top + PLOT_H + MARGIN_B
    sx = _scale(x0, x1, MARGIN_L, WIDTH - MARGIN_R)
    sy = _scale(0.0, y1, top + PLOT_H, top)
    parts = [_title(title), *legend, _frame(top, height, x_label, y_label)]
    parts += _x_axis(sx, (x_ticks or linear_ticks)(x0, x1), top + PLOT_H)
    parts += _y_axis(sy, linear_ticks(0.0, y1))
    for s in series:
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s.points)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        parts.append(f'<polyline fill="none" stroke="{s.color}" stroke-width="{s.width}"{dash} points="{coords}"/>')
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.2" fill="#fff" stroke="{s.color}" stroke-width="1.4"/>'
                  for x, y in s.markers]
    parts += [f'<circle class="mark" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="6" fill="none" stroke="#d62728" '
              f'stroke-width="2"><title>{escape(note)}</title></circle>' for x, y, note in marks]
    return _svg(parts, height)


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], *, title: str, x_label: str, y_label: str,
               x_ticks: Optional[Ticks] = None, colors: Optional[Mapping[str, str]] = None,
               x_range: Optional[tuple[float, float]] = None, marks: Sequence[tuple[float, float, str]] = ()) -> str:
    """Lines of ``(x, y)`` points, one per series name (colours from ``colors``, else the
    palette); ``marks`` as in :func:`plot`."""
    colors = colors or colors_for(series)
    return plot([Series(name, points, colors.get(name, TOTAL_COLOR)) for name, points in series.items()],
                title=title, x_label=x_label, y_label=y_label, x_ticks=x_ticks, x_range=x_range, marks=marks)


def bar_chart(rows: Sequence[tuple[str, Sequence[float]]], *, labels: Sequence[str], title: str, x_label: str,
              colors: Optional[Sequence[str]] = None) -> str:
    """Horizontal grouped bars: one group per row name, one bar per label (e.g. p50/p95/p99),
    with the value at each bar's end, a legend above and a ticked value axis below."""
    if not rows:
        return message_chart(title, "no data")
    colors = list(colors or PALETTE)
    top_value = max((v for _, values in rows for v in values), default=0.0) * 1.05 or 1.0
    legend, top = _legend([(label, colors[i % len(colors)], "") for i, label in enumerate(labels)], ())
    left = max(MARGIN_L, 16 + CHAR_W * max(len(name) for name, _ in rows))
    bar, gap = 14, 12  # a bar per label, 14 px apart: value labels (10 px text) never touch
    plot_h = len(rows) * (len(labels) * bar + gap)
    height = top + plot_h + MARGIN_B
    sx = _scale(0.0, top_value, left, WIDTH - MARGIN_R - 8 * CHAR_W)  # room for the last value label
    parts = [_title(title), *legend]
    for value, text in linear_ticks(0.0, top_value):
        parts.append(f'<line x1="{sx(value):.1f}" y1="{top}" x2="{sx(value):.1f}" y2="{top + plot_h}" stroke="#eee"/>'
                     f'<text x="{sx(value):.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">'
                     f'{escape(text)}</text>')
    y = top
    for name, values in rows:
        parts.append(f'<text x="{left - 8:.1f}" y="{y + bar * len(values) / 2 + 4:.1f}" text-anchor="end">'
                     f'{escape(name)}</text>')
        for i, value in enumerate(values):
            width = max(0.5, sx(value) - sx(0))
            parts.append(f'<rect x="{sx(0):.1f}" y="{y + 2}" width="{width:.1f}" height="{bar - 4}" '
                         f'fill="{colors[i % len(colors)]}"/>'
                         f'<text x="{sx(value) + 4:.1f}" y="{y + bar - 4}" font-size="10">{value:.2f}</text>')
            y += bar
        y += gap
    parts.append(f'<line x1="{sx(0):.1f}" y1="{top + plot_h}" x2="{sx(top_value):.1f}" y2="{top + plot_h}" stroke="#999"/>')
    parts.append(f'<text x="{(sx(0) + sx(top_value)) / 2:.1f}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>')
    return _svg(parts, height)


def message_chart(title: str, message: str) -> str:
    """A chart-sized box that says why there is nothing to draw (e.g. no successful request)."""
    height = LEGEND_TOP + 60
    return _svg([_title(title), f'<rect x="{MARGIN_L}" y="{LEGEND_TOP - 14}" width="{WIDTH - MARGIN_L - MARGIN_R}" '
                 f'height="50" fill="#fafafa" stroke="#ccc"/>',
                 f'<text x="{WIDTH / 2}" y="{LEGEND_TOP + 16}" text-anchor="middle" fill="#555">{escape(message)}</text>'],
                height)


def spectrum_ticks(x0: float, x1: float) -> list[tuple[float, str]]:
    """Ticks for a percentile axis drawn as log10(1 / (1 - p)): 0, 90, 99, 99.9, … % up to ``x1``."""
    return [(float(n), nines_label(n)) for n in range(0, int(math.floor(x1 + 1e-9)) + 1)]


def nines_label(nines: float) -> str:
    """The percentile at ``nines`` = log10(1 / (1 - p)): 0 → ``0%``, 2 → ``99%``, 2.78 → ``99.83%``."""
    percent = 100.0 * (1.0 - 10.0 ** -nines)
    if nines <= 0:
        return "0%"
    digits = max(0, math.ceil(nines - 1e-9) - 2)
    return f"{math.floor(percent * 10 ** digits + 1e-9) / 10 ** digits:.{digits}f}%"


def linear_ticks(low: float, high: float, count: int = 5) -> list[tuple[float, str]]:
    """About ``count`` round ticks from ``low`` to ``high``."""
    if high <= low:
        return [(low, _number(low))]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    first = math.ceil(low / step) * step
    return [(first + i * step, _number(first + i * step)) for i in range(int((high - first) / step + 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{round(value, 6):g}"


def _legend(entries: Sequence[tuple[str, str, str]], notes: Sequence[str]) -> tuple[list[str], float]:
    """Legend entries (label, colour, dash) then notes, laid out in rows above the plot;
    returns the parts and the plot's top (px)."""
    parts, x, y = [], float(MARGIN_L), float(LEGEND_TOP)
    items = [(label, color, dash) for label, color, dash in entries] + [(note, "", "") for note in notes]
    for label, color, dash in items:
        width = (26 if color else 0) + CHAR_W * len(label) + 18
        if x + width > WIDTH - MARGIN_R and x > MARGIN_L:
            x, y = float(MARGIN_L), y + LEGEND_ROW
        if color:
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 20:.1f}" y2="{y - 4:.1f}" stroke="{color}" '
                         f'stroke-width="2.5"{dashed}/>')
        parts.append(f'<text x="{x + (26 if color else 0):.1f}" y="{y:.1f}" font-size="11">{escape(label)}</text>')
        x += width
    return parts, (y + 14 if items else LEGEND_TOP - 6)


def _title(title: str) -> str:
    return f'<text x="{MARGIN_L}" y="18" font-weight="bold" font-size="13">{escape(title)}</text>'


def _frame(top: float, height: float, x_label: str, y_label: str) -> str:
    mid_y = top + PLOT_H / 2
    return (f'<text x="{(MARGIN_L + WIDTH - MARGIN_R) / 2}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>'
            f'<text x="16" y="{mid_y}" text-anchor="middle" transform="rotate(-90 16 {mid_y})">{escape(y_label)}</text>'
            f'<rect x="{MARGIN_L}" y="{top}" width="{WIDTH - MARGIN_L - MARGIN_R}" height="{PLOT_H}" '
            f'fill="none" stroke="#999"/>')


def _x_axis(sx: Callable[[float], float], ticks: list[tuple[float, str]], base: float) -> list[str]:
    return [f'<line x1="{sx(v):.1f}" y1="{base}" x2="{sx(v):.1f}" y2="{base + 4}" stroke="#666"/>'
            f'<text x="{sx(v):.1f}" y="{base + 17}" text-anchor="middle" font-size="11">{escape(label)}</text>'
            for v, label in ticks]


def _y_axis(sy: Callable[[float], float], ticks: list[tuple[float, str]]) -> list[str]:
    return [f'<line x1="{MARGIN_L - 4}" y1="{sy(v):.1f}" x2="{WIDTH - MARGIN_R}" y2="{sy(v):.1f}" stroke="#eee"/>'
            f'<text x="{MARGIN_L - 7}" y="{sy(v) + 4:.1f}" text-anchor="end" font-size="11">{escape(label)}</text>'
            for v, label in ticks]


def _scale(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    return lambda v: r0 + (v - d0) * (r1 - r0) / (d1 - d0)


def _svg(parts: list[str], height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="sans-serif" font-size="12">{"".join(parts)}</svg>')


def marked_chart(series: Mapping[str, Sequence[tuple[float, float]]], *, title: str, x_label: str, y_label: str,
                 h_lines: Sequence[tuple[float, str]] = (), v_lines: Sequence[tuple[float, str]] = ()) -> str:
    """Lines through dotted ``(x, y)`` points (both axes from 0), plus labelled dashed reference
    lines: horizontal at each ``h_lines`` y (e.g. an SLO threshold), vertical at each
    ``v_lines`` x (e.g. the knee of a capacity search). The axes include every line."""
    points = [p for values in series.values() for p in values if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not points:
        return message_chart(title, "no data")
    xs = [p[0] for p in points] + [x for x, _ in v_lines]
    x0, x1 = min(0.0, min(xs)), max(xs) * 1.05 or 1.0
    y1 = max([p[1] for p in points] + [y for y, _ in h_lines]) * 1.1 or 1.0
    colors = colors_for(series)
    legend, top = _legend([(name, colors[name], "") for name in series], ())
    bottom, height = top + PLOT_H, top + PLOT_H + MARGIN_B
    sx, sy = _scale(x0, x1, MARGIN_L, WIDTH - MARGIN_R), _scale(0.0, y1, bottom, top)
    parts = [_title(title), *legend, _frame(top, height, x_label, y_label),
             *_x_axis(sx, linear_ticks(x0, x1), bottom), *_y_axis(sy, linear_ticks(0.0, y1))]
    for name, values in series.items():
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        parts.append(f'<polyline fill="none" stroke="{colors[name]}" stroke-width="1.6" points="{coords}"/>')
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colors[name]}"/>' for x, y in values]
    for y, label in h_lines:
        parts.append(f'<line class="h-mark" x1="{MARGIN_L}" y1="{sy(y):.1f}" x2="{WIDTH - MARGIN_R}" y2="{sy(y):.1f}" '
                     f'stroke="#d62728" stroke-dasharray="6 4"/><text x="{MARGIN_L + 4}" y="{sy(y) - 4:.1f}" '
                     f'font-size="10" fill="#d62728">{escape(label)}</text>')
    for x, label in v_lines:
        right = sx(x) > (MARGIN_L + WIDTH - MARGIN_R) / 2  # label on the side with room
        parts.append(f'<line class="v-mark" x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{bottom}" '
                     f'stroke="#2ca02c" stroke-dasharray="6 4"/><text x="{sx(x) + (-4 if right else 4):.1f}" '
                     f'y="{top + 12}" text-anchor="{"end" if right else "start"}" font-size="10" '
                     f'fill="#2ca02c">{escape(label)}</text>')
    return _svg(parts, height)
