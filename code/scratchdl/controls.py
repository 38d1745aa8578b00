"""The knobs of an interactive figure: sliders, log sliders, dropdowns and checkboxes.

Each control knows its range, its default, the few ``static`` values the website's player
offers, how to show a value as text, and how to make its live ipywidget. They are used
through ``scratchdl.widgets.interactive_figure``.
"""

import builtins  # Slider's parameters min and max hide the builtins
import math
from decimal import Decimal

import ipywidgets
import numpy as np

__all__ = ["Slider", "LogSlider", "Dropdown", "Checkbox"]


def _decimals(x):
    """Number of decimals needed to write x: 0.1 -> 1, 0.25 -> 2, 5 -> 0."""
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(0, -exponent)


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _format_number(x):
    return str(x) if _is_int(x) else f"{x:g}"


class _Control:
    """A control knows its live ipywidget, its static values and how to show a value."""

    kind = "control"
    label = None
    static = ()
    value = None

    def _check_static(self, static):
        static = list(static)
        if not static:
            raise ValueError(f"{self.kind}: static must hold at least one value, got []")
        return static

    def format(self, value):
        return _format_number(value)

    def initial_index(self):
        """Index of the static value the player starts at: the default, or the nearest."""
        if self.value in self.static:
            return self.static.index(self.value)
        return 0


class Slider(_Control):
    """A linear slider from min to max in steps of step (an int slider if all are ints)."""

    kind = "Slider"

    def __init__(self, min, max, step, value, static=None, label=None):
        for name, x in [("min", min), ("max", max), ("step", step), ("value", value)]:
            if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
                raise ValueError(f"Slider expected a number for {name}, got {x!r}")
            if not math.isfinite(x):
                raise ValueError(f"Slider expected a finite {name}, got {x!r}")
        if not min < max:
            raise ValueError(f"Slider expected min < max, got min={min}, max={max}")
        if not step > 0:
            raise ValueError(f"Slider expected step > 0, got step={step}")
        if step > max - min:
            raise ValueError(f"Slider expected step <= max - min = {max - min}, got step={step}")
        self.integer = all(_is_int(x) for x in (min, max, step, value))
        self.min, self.max, self.step, self.label = min, max, step, label
        # decimals shown and kept: those of the grid min + k * step (and of the default)
        self._places = 0 if self.integer else builtins.min(
            12, builtins.max(_decimals(x) for x in (min, step, value)))
        self._keep_value_and_static(value, static, f"[{min}, {max}]", f"{value}")

    def _keep_value_and_static(self, value, static, bounds, shown_value):
        """Check the default and the website's values against [min, max] and keep them.
        bounds and shown_value: how the error messages write the range and the value."""
        if not self._inside(value):
            raise ValueError(f"{self.kind} expected value inside {bounds}, got value={shown_value}")
        self.value = self.clean(value)
        if static is None:
            static = self._default_static()
        static = [self._tidy(v) for v in self._check_static(static)]
        outside = [v for v in static if not self._inside(v)]
        if outside:
            raise ValueError(f"{self.kind} expected static values inside {bounds}, got {outside}")
        self.static = static

    def _inside(self, x):
        tolerance = 1e-9 * (self.max - self.min)
        return self.min - tolerance <= x <= self.max + tolerance

    def clean(self, x):
        """Round a grid value: 0.30000000000000004 -> 0.3; an int for an int slider."""
        return int(round(x)) if self.integer else round(float(x), self._places)

    def _tidy(self, x):
        """A value the author wrote (static=[...]): keep it, as int or float like the slider."""
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise ValueError(f"{self.kind} expected numbers in static, got {x!r}")
        if self.integer and float(x).is_integer():
            return int(x)
        return float(f"{float(x):.12g}")

    def _default_static(self):
        # up to 5 evenly spread values on the step grid, the nearest one replaced by the
        # default value so that the website's first frame is what the notebook shows
        n_steps = int(round((self.max - self.min) / self.step))
        indices = np.unique(np.round(np.linspace(0, n_steps, min(5, n_steps + 1))).astype(int))
        static = [self.clean(self.min + i * self.step) for i in indices]
        if self.value not in static:
            nearest = int(np.argmin([abs(v - self.value) for v in static]))
            static[nearest] = self.value
        return sorted(static)

    def initial_index(self):
        return int(np.argmin([abs(v - self.value) for v in self.static]))

    def format(self, value):
        # as the live readout shows it: 0.5 -> "0.50" when the step is 0.05
        if self.integer or round(value, self._places) != value:
            return _format_number(value)
        return f"{value:.{self._places}f}"

    def widget(self, description):
        cls = ipywidgets.IntSlider if self.integer else ipywidgets.FloatSlider
        extra = {} if self.integer else {"readout_format": f".{self._places}f"}
        return cls(min=self.min, max=self.max, step=self.step, value=self.value,
                   description=description, continuous_update=True, **extra,
                   style={"description_width": "initial"},
                   layout=ipywidgets.Layout(width="100%", max_width="36em"))

    def read(self, widget):
        return self.clean(widget.value)


class LogSlider(Slider):
    """A log-scale slider from min to max (values, e.g. 1e-4 and 10), base 10."""

    kind = "LogSlider"

    def __init__(self, min, max, value, static=None, label=None):
        for name, x in [("min", min), ("max", max), ("value", value)]:
            if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
                raise ValueError(f"LogSlider expected a number for {name}, got {x!r}")
        if not 0 < min < max:
            raise ValueError(f"LogSlider expected 0 < min < max, got min={min}, max={max}")
        self.integer = False
        self.min, self.max, self.label = float(min), float(max), label
        self._keep_value_and_static(value, static, f"[{min:g}, {max:g}]", f"{value:g}")

    def clean(self, x):
        return float(f"{float(x):.4g}")  # 0.0010000000000000002 -> 0.001

    def format(self, value):
        return f"{value:g}"

    def _default_static(self):
        # up to 5 log-spread values with 2 significant digits, the default value in place
        # of the nearest one
        static = []
        for x in np.logspace(math.log10(self.min), math.log10(self.max), 5):
            rounded = float(f"{x:.2g}")
            static.append(rounded if self._inside(rounded) else self.clean(x))
        static = sorted(set(static))
        if self.value not in static:
            nearest = int(np.argmin([abs(math.log10(v / self.value)) for v in static]))
            static[nearest] = self.value
        return sorted(static)

    def initial_index(self):
        return int(np.argmin([abs(math.log10(v / self.value)) for v in self.static]))

    def widget(self, description):
        low, high = math.log10(self.min), math.log10(self.max)
        return ipywidgets.FloatLogSlider(
            base=10, min=low, max=high, step=0.1, value=self.value,
            description=description, readout_format=".3g", continuous_update=True,
            style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="100%", max_width="36em"))


class Dropdown(_Control):
    """A choice among options: a list of str, or of (label, value) pairs."""

    kind = "Dropdown"

    def __init__(self, options, value=None, static=None, label=None):
        if isinstance(options, str) or not hasattr(options, "__iter__"):
            raise ValueError(f"Dropdown expected a list of options, got {options!r}")
        pairs = []
        for option in options:
            if isinstance(option, str):
                pairs.append((option, option))
            elif isinstance(option, (tuple, list)) and len(option) == 2:
                pairs.append((str(option[0]), option[1]))
            else:
                raise ValueError("Dropdown expected options as strings or (label, value) "
                                 f"pairs, got {option!r}")
        if not pairs:
            raise ValueError("Dropdown expected at least one option, got []")
        self.options, self.label = pairs, label
        values = [v for _, v in pairs]
        self.value = values[0] if value is None else value
        if self.value not in values:
            raise ValueError(f"Dropdown expected value to be one of {values}, got {value!r}")
        self.static = values if static is None else self._check_static(static)
        unknown = [v for v in self.static if v not in values]
        if unknown:
            raise ValueError(f"Dropdown expected static values among {values}, got {unknown}")

    def format(self, value):
        return next(label for label, v in self.options if v == value)

    def widget(self, description):
        return ipywidgets.Dropdown(options=self.options, value=self.value,
                                   description=description,
                                   style={"description_width": "initial"})

    def read(self, widget):
        return widget.value


class Checkbox(_Control):
    """An on/off switch."""

    kind = "Checkbox"

    def __init__(self, value=False, static=None, label=None):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"Checkbox expected value True or False, got {value!r}")
        self.value, self.label = bool(value), label
        self.static = [False, True] if static is None else self._check_static(static)
        if any(not isinstance(v, (bool, np.bool_)) for v in self.static):
            raise ValueError(f"Checkbox expected static values True/False, got {self.static}")
        self.static = [bool(v) for v in self.static]
        if len(set(self.static)) != len(self.static):
            raise ValueError(f"Checkbox expected distinct static values, got {self.static}")

    def format(self, value):
        return "on" if value else "off"

    def widget(self, description):
        return ipywidgets.Checkbox(value=self.value, description=description, indent=False)

    def read(self, widget):
        return bool(widget.value)
