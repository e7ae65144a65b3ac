"""Train a sketch colorizer on the Kaggle "Danbooru Sketch Pair 128x" data set.

Download the data set yourself (Kaggle, about 9.6 GB; pix2color never downloads anything),
then:

    python examples/train_danbooru.py --data path/to/danbooru-sketch-pair-128x
    tensorboard --logdir runs

`--data` takes the Kaggle root, its `color/` folder, or any folder holding `sketch/` and
`src/` with matching file names. This is `pix2color train` with the article's data set
size as the default (the first 15,000 pairs, about 12,000 / 1,500 / 1,500 train / val /
test; 128x128, batch 16, width 64) in pix2color's `gan` mode; `--mode l1` is the article's
own recipe. Every option of `pix2color train` works here (`--help`).
"""

import argparse
import sys

from pix2color.cli import (HelpFormatter, add_training_arguments, run_reporting_errors,
                           train_from_args)

DANBOORU_PAIRS = 15000  # the article's share of the data set


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpFormatter)
    add_training_arguments(parser, limit=DANBOORU_PAIRS)
    args = parser.parse_args(argv)
    if not args.data:
        print(f"{parser.prog}: error: --data is required: the folder of the Danbooru "
              f"sketch-pair data set", file=sys.stderr)
        return 2
    return run_reporting_errors(train_from_args, args, parser.prog)


if __name__ == "__main__":
    sys.exit(main())
