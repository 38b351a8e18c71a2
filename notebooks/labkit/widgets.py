"""`explore_pool()`: sliders over `run_pool_experiment`, a Run button, a summary and a timeline.

Nothing runs while you move the sliders: a run sends real requests and takes up to a few
seconds, so it waits for the button. A run happens in the kernel (the cell's own thread), and
the progress bar moves as requests finish. The round-trip slider puts the lab server across a
simulated network (`LabServer(rtt=...)`): each new connection's handshakes then show on the
timeline, before its first request. The panel's parts are attributes (`run_button`,
`summary`, `progress`, `timeline`, `controls`), so code and tests can drive it like a person.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import ipywidgets as widgets

from .pool import PoolReport, handshake_round_trips, ideal_elapsed, run_pool_experiment

__all__ = ["MAX_RUN_SECONDS", "PoolExplorer", "explore_pool"]

MAX_RUN_SECONDS = 8.0  # the longest run the explorer starts, by queueing theory's estimate
WAITING_TEXT = "Set the sliders, then press <b>Run experiment</b>."

_LABEL = {"description_width": "190px"}


def _slider(
    kind: type[widgets.IntSlider] | type[widgets.FloatSlider], description: str, **options: Any
) -> widgets.IntSlider | widgets.FloatSlider:
    return kind(
        description=description,
        continuous_update=False,
        style=_LABEL,
        layout=widgets.Layout(width="100%"),
        **options,
    )


class PoolExplorer(widgets.VBox):
    """The explorer panel (a VBox). Read `last_report` after a run for the full `PoolReport`."""

    def __init__(self) -> None:
        whole, seconds = widgets.IntSlider, widgets.FloatSlider
        self.controls: dict[str, widgets.ValueWidget] = {
            "max_connections": _slider(whole, "max_connections", value=4, min=1, max=20),
            "max_keepalive_connections": _slider(
                whole, "max_keepalive_connections", value=4, min=0, max=20
            ),
            "workers": _slider(whole, "workers (threads)", value=8, min=1, max=32),
            "requests": _slider(whole, "requests", value=40, min=1, max=200),
            "latency_ms": _slider(whole, "latency (ms)", value=100, min=0, max=500, step=10),
            "rtt_ms": _slider(whole, "round trip (ms)", value=0, min=0, max=100, step=10),
            "pool_timeout": _slider(
                seconds,
                "pool timeout (s)",
                value=5.0,
                min=0.1,
                max=5.0,
                step=0.1,
                readout_format=".1f",
            ),
        }
        self.protocol = widgets.ToggleButtons(
            options=[("HTTP", False), ("HTTPS", True)],
            value=False,
            description="protocol",
            style={**_LABEL, "button_width": "70px"},
        )
        self.run_button = widgets.Button(
            description="Run experiment",
            button_style="primary",
            icon="play",
            tooltip="send the requests with these settings",
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=40, description="answered", layout=widgets.Layout(width="320px")
        )
        self.estimate = widgets.HTML()
        self.summary = widgets.HTML(value=WAITING_TEXT)
        self.timeline = widgets.Output()
        self.last_report: PoolReport | None = None
        grid = widgets.GridBox(
            list(self.controls.values()),
            # Two columns where they fit, one in a narrow panel (a laptop with the file
            # browser open): each slider keeps a track wide enough to drag.
            layout=widgets.Layout(
                grid_template_columns="repeat(auto-fit, minmax(380px, 1fr))", grid_gap="4px 24px"
            ),
        )
        super().__init__(
            [
                widgets.HTML(
                    "<b>Pool-size explorer</b>: one shared client, a thread pool, a lab server"
                ),
                grid,
                self.protocol,
                widgets.HBox([self.run_button, self.progress]),
                self.estimate,
                self.summary,
                self.timeline,
            ],
        )
        for control in self.controls.values():
            control.observe(self._update_estimate, names="value")
        self.protocol.observe(self._update_estimate, names="value")
        self.run_button.on_click(lambda _button: self.run())
        self._update_estimate()

    def settings(self) -> dict[str, Any]:
        """The sliders' values as keyword arguments for `run_pool_experiment`."""
        values = {name: control.value for name, control in self.controls.items()}
        return {
            "max_connections": values["max_connections"],
            "max_keepalive_connections": values["max_keepalive_connections"],
            "workers": values["workers"],
            "requests": values["requests"],
            "latency": values["latency_ms"] / 1000,
            "tls": bool(self.protocol.value),
            "pool_timeout": round(float(values["pool_timeout"]), 1),
            "rtt": values["rtt_ms"] / 1000,
        }

    def _update_estimate(self, _change: object = None) -> None:
        s = self.settings()
        lanes = min(s["workers"], s["max_connections"])
        seconds = ideal_elapsed(
            max_connections=s["max_connections"],
            workers=s["workers"],
            requests=s["requests"],
            latency=s["latency"],
            rtt=s["rtt"],
            tls=s["tls"],
        )
        rounds = math.ceil(s["requests"] / lanes)
        if s["rtt"]:
            trips = handshake_round_trips(s["tls"])
            each = f"{s['latency']:g} s + a {s['rtt']:g} s round trip"
            opening = f", after the first connections' handshakes ({trips} x {s['rtt']:g} s),"
        else:
            each, opening = f"{s['latency']:g} s", ""
        plan = (
            f"Prediction (queueing theory): at most {lanes} requests in flight at once (the "
            f"smaller of workers and max_connections), so {s['requests']} requests take"
            f"{opening} {rounds} rounds of {each} = about {seconds:.2f} s."
        )
        too_long = seconds > MAX_RUN_SECONDS
        self.run_button.disabled = too_long
        if too_long:
            plan += (
                f" <b>Over the explorer's {MAX_RUN_SECONDS:g} s cap</b>: fewer requests, less "
                "latency, or more workers and connections."
            )
        self.estimate.value = plan

    def run(self) -> PoolReport | None:
        """What the Run button does: run the experiment, then fill the summary and the timeline."""
        settings = self.settings()
        self.run_button.disabled = True
        self.progress.max = settings["requests"]
        self.progress.value = 0
        self.summary.value = "running..."
        try:
            report = run_pool_experiment(**settings, on_progress=self._on_progress)
        except Exception as exc:  # noqa: BLE001 - a failed run is shown in the panel, not raised
            self.summary.value = f"run failed: {html.escape(f'{type(exc).__name__}: {exc}')}"
            return None
        finally:
            self._update_estimate()  # re-enables the button (unless over the cap)
        self.last_report = report
        self.summary.value = "<br>".join(html.escape(line) for line in report.summary_lines())
        self.timeline.outputs = (_figure_output(report),)
        return report

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.value = done


def _figure_output(report: PoolReport) -> dict[str, Any]:
    """The timeline as a display_data output for the Output widget: a PNG, drawn here.

    Setting `outputs` directly works the same in a notebook, in a test and from a button click,
    with no matplotlib backend and no `with output:` capture involved.
    """
    buffer = io.BytesIO()
    report.plot().savefig(buffer, format="png", dpi=96)
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "text/plain": "\n".join(report.summary_lines()),
        },
        "metadata": {},
    }


def explore_pool() -> PoolExplorer:
    """The pool-size explorer: set the sliders, press Run, read the summary and the timeline."""
    return PoolExplorer()
