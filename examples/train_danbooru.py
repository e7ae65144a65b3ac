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

import sys

from pix2color.cli import main as pix2color

DANBOORU_PAIRS = 15000  # the article's share of the data set


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not any(a == "--data" or a.startswith("--data=") for a in argv) and "--help" not in \
            argv and "-h" not in argv:
        print("train_danbooru: error: --data is required: the folder of the Danbooru "
              "sketch-pair data set", file=sys.stderr)
        return 2
    return pix2color(["train", "--limit", str(DANBOORU_PAIRS), *argv])


if __name__ == "__main__":
    sys.exit(main())
