"""How `Colorizer.colorize_batch` bounds its memory: what is read at once, which network
inputs are made together, and which pictures are finished on threads.

A long list of large files must never sit in memory at once, and a large image's
full-size work must not run twice at once; yet at 128 px a call into TensorFlow costs more
than its work, so small images go together wherever that is safe.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

# Images are read until they hold this many pixels, then coloured: 64 Mpx (about 200 MB as
# uint8) before a batch runs.
CHUNK_PIXELS = 1 << 26
# Images up to this many pixels are finished (segmented, filled, composed) on several threads
# at once; larger ones one after another, so their full-size work never runs twice at once.
PARALLEL_PIXELS = 1 << 20
# Images whose shrunk copy (float32 RGB, before the network's resize) is at most this many
# pixels get their network inputs made together, a chunk at a time; larger ones as soon as
# they are read, so their copies are never held all together.
BATCHED_INPUT_PIXELS = 1 << 18
THREADS = max(1, min(4, os.cpu_count() or 1))


@functools.lru_cache(maxsize=None)
def _pool(threads):
    return ThreadPoolExecutor(threads, "pix2color-finish")


class Batching:
    """The three size thresholds above (each can be given) and the finishing threads."""

    def __init__(self, chunk_pixels=CHUNK_PIXELS, parallel_pixels=PARALLEL_PIXELS,
                 batched_input_pixels=BATCHED_INPUT_PIXELS, threads=THREADS):
        self.chunk_pixels, self.parallel_pixels = chunk_pixels, parallel_pixels
        self.batched_input_pixels, self.threads = batched_input_pixels, threads

    def chunks(self, requests, batch_size, read, prepare):
        """Yield the `prepare`d pictures of `requests`, a chunk at a time: `batch_size` of
        them, or fewer once they hold `chunk_pixels`. `read(request)` -> a `Picture`;
        `prepare(items)` -> their network inputs (a `Prepared` passes as it is). A picture
        whose shrunk copy is large is prepared as soon as it is read. The next chunk is read
        only when the caller asks for it."""
        chunk, pixels = [], 0
        for request in requests:
            picture = read(request)
            pixels += picture.pixels
            large = picture.shrunk_pixels > self.batched_input_pixels
            chunk.append(prepare([picture])[0] if large else picture)
            del picture   # what is held is in `chunk`, which the caller lets go of
            if len(chunk) == batch_size or pixels >= self.chunk_pixels:
                ready, pixels = prepare(chunk), 0
                chunk.clear()
                yield ready
        if chunk:
            yield prepare(chunk)

    @staticmethod
    def alike(items, key, batch_size):
        """Lists of indices into `items` that share `key(item)`, at most `batch_size` long."""
        groups = {}
        for i, item in enumerate(items):
            groups.setdefault(key(item), []).append(i)
        return [indices[start: start + batch_size] for indices in groups.values()
                for start in range(0, len(indices), batch_size)]

    def finish_all(self, jobs, finish, pixels):
        """`finish(job)` for each job, in order: on threads when there are several and each
        is at most `parallel_pixels` (`pixels(job)`; numpy and SciPy let go of the GIL in
        their loops), else one after another, so a large image's work is never doubled."""
        if len(jobs) > 1 and all(pixels(job) <= self.parallel_pixels for job in jobs):
            return list(_pool(self.threads).map(finish, jobs))
        return [finish(job) for job in jobs]
