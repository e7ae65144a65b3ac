"""Validation during training: metrics over the validation split with the generator in
inference mode, and the best generator so far by one of them."""

import numpy as np
import tensorflow as tf

from .data import paired_dataset
from .metric_table import METRICS
from .metrics import batch_metrics, summarize


class Validator:
    """Scores a generator on the validation pairs (`score`) and says whether it is the best
    yet by `config.best_metric` (`best`, a variable the run's checkpoints keep)."""

    def __init__(self, pairs, config, task, predict):
        self.pairs, self.config, self.task, self.predict = pairs, config, task, predict
        self.best = tf.Variable(np.inf, dtype=tf.float32, trainable=False, name="best_score")

    def score(self):
        """(metrics, indices of the pairs read): L1, PSNR, SSIM, CIEDE2000 and
        colourfulness, averaged over the images; ({}, []) with no pairs."""
        if not len(self.pairs):
            return {}, []
        # the validation split as network tensors, with no hints given
        data = paired_dataset(self.pairs, batch_size=self.config.batch_size, config=self.config)
        if self.config.val_batches:
            data = data.take(self.config.val_batches)
        per_image, seen = {}, []
        for inputs, targets, indices in data:
            outputs = self.predict(inputs)
            per_image.setdefault("l1", []).append(
                tf.reduce_mean(tf.abs(tf.cast(outputs, tf.float32) - targets), [1, 2, 3]))
            for name, values in batch_metrics(self.task.to_rgb(inputs, outputs),
                                              self.task.to_rgb(inputs, targets)).items():
                per_image.setdefault(name, []).append(values)
            seen.append(indices.numpy())
        return (summarize(per_image) if seen else {}), seen

    def is_best(self, metrics):
        """True (and remembered) when `metrics` beat every earlier validation."""
        name = self.config.best_metric
        score = METRICS[name].badness(metrics[name])
        if score < float(self.best):
            self.best.assign(score)
            return True
        return False
