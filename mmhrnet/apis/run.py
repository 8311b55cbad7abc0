"""A run of the inferencer over inputs into a folder: what ``tools/infer.py`` does.

The frames are decoded in a reader thread and the results drawn and written in a writer thread
(:mod:`mmhrnet.apis.overlap`) while the models compute the next frame; the order of the
results and the files' names are those of a plain loop, and an error of either thread is
raised as the loop would have raised it. See :mod:`mmhrnet.apis.outputs` for the files.
"""
import os
import os.path as osp
import sys
import time
from typing import Optional

import cv2
import numpy as np

from .outputs import ResultWriter, image_id_of
from .overlap import ReadAhead, WriteBehind
from .sources import (Frame, InferenceInputError, count_frames, fit_boxes, folder_images,
                      iter_frames, load_bbox_file, source_kind)


class Progress:
    """A one-line progress bar with images/s on stderr (``total`` None: count only)."""

    def __init__(self, total: Optional[int] = None, width: int = 30, stream=None):
        self.total, self.width, self.count = total, width, 0
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    @property
    def rate(self) -> float:
        return self.count / max(time.perf_counter() - self.start, 1e-9)

    def update(self, n: int = 1) -> None:
        self.count += n
        elapsed = time.perf_counter() - self.start
        if self.total:
            done = int(self.width * self.count / self.total)
            bar = f'[{">" * done}{" " * (self.width - done)}] {self.count}/{self.total}'
        else:
            bar = f'{self.count} images'
        self.stream.write(f'\r{bar}, {self.rate:.2f} img/s, elapsed {elapsed:.0f}s')
        self.stream.flush()

    def close(self) -> None:
        self.stream.write('\n')
        self.stream.flush()


def planned_image_ids(inputs) -> Optional[list]:
    """The COCO image ids (:func:`~mmhrnet.apis.outputs.image_id_of`) that ``inputs`` will
    give, without reading them; None when they include a video or a webcam (whose ids are
    frame indices)."""
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    paths = []
    for item in items:
        kind = source_kind(item)
        if kind in ('video', 'webcam'):
            return None
        if kind == 'array':
            paths.append(None)
        else:
            paths += folder_images(os.fspath(item)) if kind == 'folder' else [os.fspath(item)]
    ids = []
    for position, path in enumerate(paths):
        name = osp.splitext(osp.basename(path))[0] if path else f'array_{position}'
        ids.append(image_id_of(Frame(None, name), position))
    return ids


def _check_bbox_ids(boxes_by_id: dict, inputs, bbox_file: str) -> None:
    """InferenceInputError when no input's id is in the bbox file (every image would get no
    person)."""
    planned = planned_image_ids(inputs)
    if planned is None or not boxes_by_id or set(planned) & set(boxes_by_id):
        return
    raise InferenceInputError(
        f'bbox file {bbox_file}: none of its {len(boxes_by_id)} image ids (e.g. '
        f'{sorted(boxes_by_id)[:3]}) is the id of an input (e.g. {planned[:3]}); an image\'s '
        'id is the number of its file name (000000000785.jpg -> 785), else its position')


def _check_display() -> None:
    if sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        # OpenCV's Qt window aborts the process without a display: refuse before starting
        raise OSError('--show needs a display (DISPLAY is not set); use --out-dir and look at '
                      'the pictures instead')


def _show(picture: np.ndarray, wait: bool) -> bool:
    """Shows a picture (an image waits for a key, a video frame does not); False on q / Esc."""
    try:
        cv2.imshow('mmhrnet', picture)
        key = cv2.waitKey(0 if wait else 1)
    except cv2.error as e:  # no display, or an OpenCV built without GUI
        raise OSError(f'--show: OpenCV cannot open a window here ({e.err}); use --out-dir '
                      f'and look at the pictures instead') from None
    return key & 0xFF not in (ord('q'), 27)


def _seg_palette(inferencer):
    return inferencer.task_meta('seg').get('palette') if 'seg' in inferencer.tasks else None


def infer_to_dir(inferencer, inputs, out_dir: Optional[str] = None, every: int = 1,
                 show: bool = False, progress: bool = True, pictures: bool = True,
                 bbox_file: Optional[str] = None, checkpoint_s: float = 10.) -> dict:
    """Runs ``inferencer`` on ``inputs``, writes the files under ``out_dir``, shows pictures.

    Args:
        inferencer: An :class:`~mmhrnet.apis.HRNetInferencer`.
        inputs: What the inferencer takes (path, folder, video, webcam index, list).
        out_dir: Output folder; None writes nothing (with ``show``: a live view).
        every: Keep every ``every``-th video frame.
        show: Show each picture in an OpenCV window (``q`` or Esc stops).
        progress: Print a progress bar with images/s on stderr.
        pictures: Draw and save the pictures / videos.
        bbox_file: COCO detection results giving the person boxes of each image by its id
            (see :func:`~mmhrnet.apis.outputs.image_id_of`), instead of the inferencer's
            detector. Checked first (:func:`~mmhrnet.apis.sources.load_bbox_file`); boxes are
            clipped to their image and a box mostly outside it is an error; no input id in
            the file is an error, some inputs without boxes are a warning.
        checkpoint_s: Rewrite a running video's JSON at most this often (seconds).

    Returns:
        dict: ``images``, ``persons``, ``seconds``, ``images_per_s``, ``written`` (files),
        ``renamed`` (inputs whose files got a ``-2``... name), ``warnings`` (lines). On an
        error (or Ctrl-C) the files of every image done stay complete and the error
        propagates.
    """
    if show:
        _check_display()
    boxes_by_id = load_bbox_file(bbox_file) if bbox_file else None
    if boxes_by_id is not None:
        _check_bbox_ids(boxes_by_id, inputs, bbox_file)
    writer = ResultWriter(out_dir, pictures, _seg_palette(inferencer),
                          checkpoint_s) if out_dir else None
    bar = Progress(count_frames(inputs, every)) if progress else None
    start, images = time.perf_counter(), 0
    # pictures for the files are drawn behind, with the writing; a window needs them here
    draw_behind = writer is not None and pictures and not show

    def write(frame: Frame, result: dict, picture, position: int):
        if draw_behind:
            picture = inferencer.visualize(frame.image, result)
        writer.write(frame, result, picture, position)
    behind = WriteBehind(write) if writer is not None else None
    no_boxes, used_ids = [], set()
    frames = ReadAhead(iter_frames(inputs, every))
    try:
        for position, frame in enumerate(frames):
            bboxes = None
            if boxes_by_id is not None:
                image_id = image_id_of(frame, position)
                bboxes = boxes_by_id.get(image_id)
                if bboxes is None:
                    no_boxes.append(frame.path or frame.name)
                    bboxes = np.zeros((0, 5))
                used_ids.add(image_id)
                h, w = frame.image.shape[:2]
                bboxes = fit_boxes(bboxes, w, h, f'bbox file {bbox_file}, image {image_id} '
                                                 f'({frame.path or frame.name})')
            result = inferencer.predict(frame, bboxes=bboxes, every=every)
            picture = inferencer.visualize(frame.image, result) if show else None
            if behind is not None:
                behind.put(frame, result, picture, position)
            images += 1
            if bar is not None:
                bar.update()
            if show and not _show(picture, wait=not frame.video):
                break
        if behind is not None:
            behind.finish()
    except BaseException:
        if behind is not None:  # the images done are written; a write that failed on an
            behind.finish()     # earlier image is what the plain loop would have raised
        raise
    finally:
        frames.close()
        if bar is not None:
            bar.close()
        if writer is not None:
            writer.close()
        if show:
            try:
                cv2.destroyAllWindows()
            except cv2.error:
                pass  # no window was opened
    seconds = time.perf_counter() - start
    warnings = []
    if no_boxes:
        warnings.append(f'{len(no_boxes)} of {images} inputs have no box in bbox file '
                        f'{bbox_file} (no person for them), e.g. {no_boxes[0]}')
    unused = sorted(set(boxes_by_id or ()) - used_ids)
    if unused:
        warnings.append(f'{len(unused)} image ids of bbox file {bbox_file} match no input, '
                        f'e.g. {unused[:3]}')
    if writer is not None and writer.renamed:
        warnings.append(f'{len(writer.renamed)} inputs share a file name with an earlier one: '
                        f'their files are named {"; ".join(writer.renamed[:3])}'
                        + (' ...' if len(writer.renamed) > 3 else ''))
    return dict(images=images, persons=writer.persons if writer else None, seconds=seconds,
                images_per_s=images / max(seconds, 1e-9),
                written=list(writer.written) if writer else [],
                renamed=list(writer.renamed) if writer else [], warnings=warnings)
