"""Train a sketch colorizer on the Kaggle "Danbooru Sketch Pair 128x" data set.

Download the data set yourself (Kaggle, about 9.6 GB; pix2color never downloads anything),
then:

    python examples/train_danbooru.py --data path/to/danbooru-sketch-pair-128x
    tensorboard --logdir runs

`--data` takes the Kaggle root, its `color/` folder, or any folder holding `sketch/` and
`src/` with matching file names. Defaults follow the article (128x128, batch 16, width 64,
the first 15,000 pairs, about 12,000 / 1,500 / 1,500 train / val / test) but train in
pix2color's `gan` mode; `--mode l1` is the article's own recipe. Every option of
`pix2color train` works here too (`--help`).
"""

import argparse
import sys

from pix2color.cli import (DANBOORU_LIMIT, add_training_arguments, run_reporting_errors,
                           train_from_args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_training_arguments(parser, limit=DANBOORU_LIMIT)
    args = parser.parse_args(argv)
    if not args.data and not args.input_dir:
        parser.error("--data is required: the folder of the Danbooru sketch-pair data set")
    return run_reporting_errors(train_from_args, args, "train_danbooru")


if __name__ == "__main__":
    sys.exit(main())
