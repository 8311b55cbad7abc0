"""Files of an inference run: COCO-format JSON, pictures, class maps and annotated videos.

Layout under ``out_dir``:

- ``predictions/<name>.json``: per image, a list of COCO results (one per person: ``image_id``,
  ``category_id`` 1, ``bbox`` xywh, ``score``, ``keypoints`` (K x [x, y, score]) and
  ``segmentation`` (RLE) as the tasks give them, plus ``track_id`` in videos), the format
  of the COCO evaluation server, xtcocotools' ``loadRes`` and
  ``tools/analysis/check_submission.py``; per video, ``predictions/<video>.json`` with
  every kept frame (``image_id`` = frame index).
- ``vis/<name>.jpg``: the picture with all tasks drawn; ``vis/<video>.mp4``: the video.
- ``seg/<name>.png``: the class map (pixel value = class index, with the dataset's palette).

Every image's files are written as soon as it is done, so an error on a later input keeps
them.
"""
import json
import os
import os.path as osp
import re
import sys
import time
from typing import List, Optional

import cv2
import numpy as np

from .sources import Frame, iter_frames, load_bbox_file


def image_id_of(frame: Frame, position: int) -> int:
    """COCO image id: the frame index in a video, the number of a COCO-style file name
    (``000000000785.jpg`` -> 785), else the input's position."""
    if frame.video:
        return int(frame.index)
    return int(frame.name) if re.fullmatch(r'\d+', frame.name) else position


def to_coco_results(result: dict, image_id: int) -> List[dict]:
    """The persons of one result as COCO results (keypoints / bbox / segm in one entry)."""
    entries = []
    for person in result['persons']:
        x1, y1, x2, y2 = person['bbox']
        entry = dict(image_id=image_id, category_id=1,
                     bbox=[x1, y1, x2 - x1, y2 - y1],
                     score=float(person.get('score', person['bbox_score'])),
                     bbox_score=float(person['bbox_score']))
        if 'keypoints' in person:
            entry['keypoints'] = [float(v) for (x, y), s in zip(
                person['keypoints'], person['keypoint_scores']) for v in (x, y, s)]
        if 'mask' in person:
            entry['segmentation'] = person['mask']
        if 'track_id' in person:
            entry['track_id'] = person['track_id']
        entries.append(entry)
    return entries


def save_class_map(class_map: np.ndarray, path: str, palette=None) -> None:
    """Writes a class map as an 8-bit PNG whose values are class indices (palette: colours)."""
    from PIL import Image
    if class_map.max(initial=0) > 255:
        raise ValueError(f'{path}: {class_map.max()} classes do not fit an 8-bit PNG')
    image = Image.fromarray(class_map.astype(np.uint8), mode='P')
    if palette is not None and len(palette):
        image.putpalette([int(c) for color in palette for c in color][:768])
    image.save(path)


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


def count_frames(inputs, every: int = 1) -> Optional[int]:
    """How many frames ``inputs`` give, without reading them (None for a webcam)."""
    from .sources import folder_images, source_kind
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    total = 0
    for item in items:
        kind = source_kind(item)
        if kind == 'webcam':
            return None
        if kind == 'folder':
            total += len(folder_images(os.fspath(item)))
        elif kind == 'video':
            capture = cv2.VideoCapture(os.fspath(item))
            frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
            capture.release()
            total += -(-frames // every) if frames > 0 else 0
        else:
            total += 1
    return total or None


class ResultWriter:
    """Writes results as they come (see the module docstring for the layout).

    Args:
        out_dir: Output folder (made when needed).
        pictures: Write the drawn pictures and videos.
        palette: The segmentation palette for the class maps.
    """

    def __init__(self, out_dir: str, pictures: bool = True, palette=None):
        self.out_dir, self.pictures, self.palette = out_dir, pictures, palette
        self.written: List[str] = []
        self.images, self.persons = 0, 0
        self._video_key, self._video_entries, self._video_writer = None, [], None
        self._video_json = None

    def _path(self, sub: str, name: str) -> str:
        folder = osp.join(self.out_dir, sub)
        os.makedirs(folder, exist_ok=True)
        return osp.join(folder, name)

    def _dump(self, path: str, entries: list) -> None:
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(entries, f)
        if path not in self.written:
            self.written.append(path)

    def write(self, frame: Frame, result: dict, picture: Optional[np.ndarray], position: int):
        self.images += 1
        self.persons += len(result['persons'])
        entries = to_coco_results(result, image_id_of(frame, position))
        if frame.video:
            key = (frame.path, frame.source)
            if key != self._video_key:
                self.close_video()
                self._video_key = key
                self._video_json = self._path('predictions', f'{key[1]}.json')
            for entry in entries:
                entry['frame'] = frame.index
            self._video_entries += entries
            if picture is not None and self.pictures:
                self._write_video_frame(frame, picture, key[1])
        else:
            self._dump(self._path('predictions', f'{frame.name}.json'), entries)
            if picture is not None and self.pictures:
                path = self._path('vis', f'{frame.name}.jpg')
                cv2.imwrite(path, picture)
                self.written.append(path)
        if 'class_map' in result:
            stem = frame.name
            path = self._path('seg', f'{stem}.png')
            save_class_map(result['class_map'], path, self.palette)
            self.written.append(path)

    def _write_video_frame(self, frame: Frame, picture: np.ndarray, stem: str):
        if self._video_writer is None:
            path = self._path('vis', f'{stem}.mp4')
            h, w = picture.shape[:2]
            self._video_writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'),
                                                 frame.fps or 30., (w, h))
            if not self._video_writer.isOpened():
                raise OSError(f'cannot write video {path} (OpenCV has no mp4v encoder here)')
            self.written.append(path)
        self._video_writer.write(picture)

    def close_video(self):
        """Finishes the current video: its JSON (all kept frames so far) and its mp4."""
        if self._video_json is not None:
            self._dump(self._video_json, self._video_entries)
        if self._video_writer is not None:
            self._video_writer.release()
        self._video_key, self._video_entries, self._video_writer = None, [], None
        self._video_json = None

    close = close_video


def infer_to_dir(inferencer, inputs, out_dir: Optional[str] = None, every: int = 1,
                 show: bool = False, progress: bool = True, pictures: bool = True,
                 bbox_file: Optional[str] = None) -> dict:
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
            (see :func:`image_id_of`), instead of the inferencer's detector.

    Returns:
        dict: ``images``, ``persons``, ``seconds``, ``images_per_s``, ``written`` (files).
        On an error the files written so far stay and the error propagates.
    """
    if show and sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        # OpenCV's Qt window aborts the process without a display: refuse before starting
        raise OSError('--show needs a display (DISPLAY is not set); use --out-dir and look at '
                      'the pictures instead')
    boxes_by_id = load_bbox_file(bbox_file) if bbox_file else None
    writer = ResultWriter(out_dir, pictures, _seg_palette(inferencer)) if out_dir else None
    bar = Progress(count_frames(inputs, every)) if progress else None
    start, images = time.perf_counter(), 0
    draw = show or (writer is not None and pictures)
    try:
        for position, frame in enumerate(iter_frames(inputs, every)):
            bboxes = None
            if boxes_by_id is not None:
                bboxes = boxes_by_id.get(image_id_of(frame, position), np.zeros((0, 5)))
            result = inferencer.predict(frame, bboxes=bboxes, every=every)
            picture = inferencer.visualize(frame.image, result) if draw else None
            if writer is not None:
                writer.write(frame, result, picture, position)
            images += 1
            if bar is not None:
                bar.update()
            if show and not _show(picture, wait=not frame.video):
                break
    finally:
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
    return dict(images=images, persons=writer.persons if writer else None, seconds=seconds,
                images_per_s=images / max(seconds, 1e-9),
                written=list(writer.written) if writer else [])


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
