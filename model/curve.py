"""The learning curve of a training run as a PNG: loss and dev F1 per epoch, so a user sees at a
glance whether a run converged, overfitted or stopped early."""
from __future__ import annotations

import io
from collections.abc import Sequence


def plot_curve(curve: Sequence[dict[str, float]], title: str = "") -> bytes:
    """PNG bytes of loss (left axis) and dev F1 (right axis) against the epoch."""
    import matplotlib

    matplotlib.use("Agg")  # no display: servers and CI
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.4), dpi=100)
    loss_axis = figure.add_subplot()
    epochs = [point["epoch"] for point in curve]
    loss_axis.plot(epochs, [point["loss"] for point in curve], "o-", color="tab:red", label="training loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("loss per character", color="tab:red")
    f1_axis = loss_axis.twinx()
    f1_axis.plot(epochs, [point["dev_f1"] for point in curve], "s-", color="tab:blue", label="dev F1")
    f1_axis.set_ylabel("dev F1", color="tab:blue")
    if epochs:
        loss_axis.set_xticks(epochs)
    loss_axis.set_title(title or "learning curve")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
