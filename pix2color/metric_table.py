"""The metrics by name, in one table: what each is called in a report, how it is printed and
which way is better. `pix2color.metrics` computes them; `TrainConfig.best_metric` chooses
from those with a better way, validation keeps the best model by one, and `evaluate` prints
them. Importing this module does not start TensorFlow (the CLI's `--help` lists the names).
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str       # the key in validation logs and evaluate's rows
    label: str      # the column header of evaluate's table
    format: str     # how evaluate prints a value
    better: str     # "lower", "higher", "near 1", or "" (neither: not a way to pick a model)

    def badness(self, value):
        """The value as "lower is better", for choosing the best checkpoint."""
        if self.better == "higher":
            return -value
        if self.better == "near 1":
            return abs(1.0 - value)
        return value


METRICS = {metric.name: metric for metric in (
    Metric("l1", "L1", "{:.3f}", "lower"),    # validation only: in the network's space
    Metric("psnr", "PSNR dB", "{:.2f}", "higher"),
    Metric("ssim", "SSIM", "{:.3f}", "higher"),
    Metric("ciede2000", "CIEDE2000", "{:.2f}", "lower"),
    Metric("ciede2000_fg", "CIEDE2000 fg", "{:.2f}", "lower"),
    Metric("colourfulness", "colourfulness", "{:.1f}", ""),
    Metric("colourfulness_ratio", "colourfulness ratio", "{:.2f}", "near 1"),
    Metric("flat_noise", "flat noise", "{:.2f}", "lower"),
)}
# The metrics validation can keep the best model by (TrainConfig.best_metric).
RANKING_METRICS = tuple(name for name, metric in METRICS.items() if metric.better)
