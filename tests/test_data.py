from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2color.config import TrainConfig
from pix2color.data import (PairRecipe, danbooru_dirs, danbooru_pairs, find_pairs,
                            paired_dataset, split_pairs)
from pix2color.openmoji import is_flag, openmoji_base, openmoji_pairs, openmoji_reserved


def test_find_pairs_matches_relative_names_and_reports_orphans(pair_tree):
    (pair_tree / "sketch" / "0000" / "orphan.png").write_bytes(
        (pair_tree / "sketch" / "0000" / "1000.png").read_bytes())
    pairs, unmatched = find_pairs(pair_tree / "sketch", pair_tree / "src")
    assert len(pairs) == 24
    assert all(Path(a).relative_to(pair_tree / "sketch") == Path(b).relative_to(pair_tree / "src")
               for a, b in pairs)
    assert unmatched == [str(pair_tree / "sketch" / "0000" / "orphan.png")]


def test_no_pairs_is_a_clear_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=f"no image pairs found.*{tmp_path / 'a'}"):
        find_pairs(tmp_path / "a", tmp_path / "b")
    with pytest.raises(FileNotFoundError, match="looked for sketch/ and src/"):
        danbooru_dirs(tmp_path)


def test_danbooru_layouts_and_limit(tmp_path):
    from conftest import make_pair_tree

    make_pair_tree(tmp_path / "kaggle" / "color", count=6)
    for root in (tmp_path / "kaggle", tmp_path / "kaggle" / "color"):
        assert danbooru_dirs(root) == (root.joinpath("sketch") if root.name == "color"
                                       else root / "color" / "sketch",
                                       (root if root.name == "color" else root / "color") / "src")
    pairs, _ = danbooru_pairs(tmp_path / "kaggle", limit=4)
    everything, _ = danbooru_pairs(tmp_path / "kaggle")
    assert pairs == sorted(everything)[:4]


def test_split_is_deterministic_and_stable():
    pairs = [(f"s/{i:04d}/{i}.png", f"c/{i:04d}/{i}.png") for i in range(2000)]
    first = split_pairs(pairs)
    again = split_pairs(list(reversed(pairs)) + [("s/x/new.png", "c/x/new.png")])
    for name in ("train", "val", "test"):
        assert set(first[name]) <= set(again[name])
    assert 150 < len(first["val"]) < 250 and 150 < len(first["test"]) < 250
    assert not set(first["train"]) & set(first["test"])


def test_split_by_folder_keeps_a_folder_together():
    pairs = [(f"s/{i % 50}/{i}.png", f"c/{i % 50}/{i}.png") for i in range(500)]
    splits = split_pairs(pairs, by="folder")
    folders = {name: {Path(a).parent.name for a, _ in split} for name, split in splits.items()}
    assert not folders["train"] & folders["test"] and not folders["train"] & folders["val"]


@pytest.mark.slow
def test_paired_dataset_streams_scaled_jittered_pairs(pair_tree):
    pairs, _ = find_pairs(pair_tree / "sketch", pair_tree / "src")
    batches = list(paired_dataset(pairs, size=32, batch_size=8, training=True, seed=3))
    assert [int(b[0].shape[0]) for b in batches] == [8, 8, 8]
    x, y, indices = batches[0]
    assert x.shape == (8, 32, 32, 3) and y.shape == (8, 32, 32, 3)
    # The network's range: black lines at -1 on a white 1 (not [0, 1], not 0..255)...
    assert float(np.min(x)) == pytest.approx(-1.0, abs=0.05) and float(np.max(x)) == 1.0
    # ...and jittered: training crops of a 1.12x upscale, not the plain resize evaluation reads.
    plain = {int(i): t for _, y_plain, ii in paired_dataset(pairs, size=32, batch_size=24)
             for i, t in zip(ii.numpy(), y_plain.numpy())}
    moved = [not np.allclose(t, plain[int(i)], atol=0.02) for i, t in zip(indices.numpy(), y)]
    assert sum(moved) >= 6
    assert sorted(np.concatenate([b[2] for b in batches]).tolist()) == list(range(24))
    # One jitter and flip for both images: a pair of identical files stays identical.
    same = [(a, a) for a, _ in pairs]
    for x, y, _ in paired_dataset(same, size=32, batch_size=24, training=True, seed=5):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    # Seeded: the same epoch gives the same stream, another epoch another order.
    def order(epoch):
        return np.concatenate([b[2] for b in paired_dataset(pairs, 32, 8, True, 3, epoch)]).tolist()
    assert order(0) == order(0) and order(0) != order(1)


@pytest.mark.slow
def test_unreadable_files_are_dropped_not_fatal(pair_tree):
    pairs, _ = find_pairs(pair_tree / "sketch", pair_tree / "src")
    Path(pairs[2][0]).write_bytes(b"")  # zero bytes
    Path(pairs[5][1]).write_bytes(Path(pairs[5][1]).read_bytes()[:60])  # truncated PNG
    Path(pairs[7][0]).write_text("not an image")
    pairs.append((str(pair_tree / "missing.png"), pairs[0][1]))
    seen = np.concatenate([b[2] for b in paired_dataset(pairs, 32, 8)]).tolist()
    assert sorted(set(range(len(pairs))) - set(seen)) == [2, 5, 7, 24]


@pytest.mark.slow
def test_grayscale_and_alpha_inputs_are_read_as_rgb_on_white(tmp_path):
    gray = tmp_path / "gray.png"
    Image.new("L", (32, 32), 0).save(gray)
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (32, 32), (255, 0, 0, 0)).save(clear)
    x, y, _ = next(iter(paired_dataset([(str(gray), str(clear))], 32, 1)))
    np.testing.assert_allclose(x.numpy(), -1.0)
    np.testing.assert_allclose(y.numpy(), 1.0, atol=1e-6)  # transparent -> white


def test_openmoji_pairs_are_real_line_art_without_reserved_or_flags(tmp_path):
    pairs = openmoji_pairs(tmp_path, size=32, limit=40)
    assert len(pairs) == 40
    stems = {Path(a).stem for a, _ in pairs}
    reserved = openmoji_reserved()
    assert len(reserved) > 400 and not stems & reserved
    assert not any(is_flag(s) for s in stems)
    sketch = np.asarray(Image.open(pairs[10][0]).convert("RGB")).astype(int)
    colour = np.asarray(Image.open(pairs[10][1]).convert("RGB")).astype(int)
    chroma = lambda a: (a.max(-1) - a.min(-1)).max()  # noqa: E731
    assert chroma(sketch) <= 8 < chroma(colour)       # lines are black/gray, the fill is colour
    assert (sketch < 128).any() and (sketch > 250).mean() > 0.5


def test_openmoji_helpers():
    assert openmoji_base("1F44B-1F3FD") == "1F44B"
    assert openmoji_base("1F469-1F3FB-200D-1F4BB") == "1F469-200D-1F4BB"
    assert is_flag("1F1E9-1F1EA") and is_flag("1F3F4-E0067-E0062-E0065-E006E-E0067-E007F")
    assert not is_flag("1F1E6") and not is_flag("1F600")


@pytest.mark.slow
def test_the_config_says_how_pairs_become_tensors(pair_tree):
    """A TrainConfig (or its PairRecipe) is read whole: size, task and hints come from it."""
    pairs, _ = find_pairs(pair_tree / "sketch", pair_tree / "src")
    config = TrainConfig(size=32, depth=3, hints=True, batch_size=4)
    x, y, _ = next(iter(paired_dataset(pairs, batch_size=4, config=config)))
    assert x.shape == (4, 32, 32, 7) and y.shape == (4, 32, 32, 3)   # RGB + hint RGB + mask
    same, _, _ = next(iter(paired_dataset(pairs, 32, 4, hints=True)))
    np.testing.assert_array_equal(x.numpy(), same.numpy())
    gray = TrainConfig(task="gray", size=32, depth=3)
    x, y, _ = next(iter(paired_dataset(pairs, batch_size=4, config=gray)))
    assert x.shape == (4, 32, 32, 1) and y.shape == (4, 32, 32, 2)
    assert PairRecipe.of(gray).from_target and not PairRecipe.of(config).from_target
    assert PairRecipe(extract_lines=True).from_target
    with pytest.raises(TypeError, match="either config"):
        paired_dataset(pairs, 32, config=config)
    with pytest.raises(ValueError, match="extract_lines"):
        PairRecipe(task="gray", extract_lines=True)
