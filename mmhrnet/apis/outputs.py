"""Files of an inference run: COCO-format JSON, pictures, class maps and annotated videos
(the writing stage; :func:`mmhrnet.apis.infer_to_dir` runs it in a thread of its own).

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
them. Every file is written under a temporary name and renamed, so a failed write (a full
disk) leaves an earlier file of that name as it was and raises an error naming the file. Two
inputs with the same stem (``A/img.jpg`` and ``B/img.jpg``, ``x.jpg`` and ``x.png``) get
``img``, ``img-2``, ... in input order (the summary's ``renamed`` lists them). A video's JSON
is rewritten (atomically) every ``checkpoint_s`` seconds while it runs and once at its end,
and its mp4 is written as ``vis/.<video>.part.mp4`` and renamed when it closes: a run stopped
by Ctrl-C or SIGTERM (``tools/infer.py`` turns SIGTERM into KeyboardInterrupt) leaves the
JSON of every frame done and a playable video of them; a run killed outright leaves the JSON
of the last checkpoint and no video under the final name.
"""
import json
import os
import os.path as osp
import re
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmhrnet.utils.checkpoint import atomic_write

from .sources import Frame

PART_SUFFIX = '.part.mp4'  # an mp4 being written; OpenCV picks the container by extension


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


def write_file(path: str, data) -> None:
    """Writes bytes or str to ``path`` under a temporary name, then renames it: ``path`` is
    either its old content or the new one. OSError naming ``path`` on a failure."""
    try:
        atomic_write(path, data)
    except OSError as e:
        raise OSError(e.errno, f'cannot write {path}: {e.strerror or e}') from None


def save_class_map(class_map: np.ndarray, path: str, palette=None) -> None:
    """Writes a class map as an 8-bit PNG whose values are class indices (palette: colours)."""
    import io

    from PIL import Image
    if class_map.max(initial=0) > 255:
        raise ValueError(f'{path}: {class_map.max()} classes do not fit an 8-bit PNG')
    image = Image.fromarray(class_map.astype(np.uint8), mode='P')
    if palette is not None and len(palette):
        image.putpalette([int(c) for color in palette for c in color][:768])
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    write_file(path, buffer.getvalue())


class ResultWriter:
    """Writes results as they come (see the module docstring for the layout and guarantees).

    Args:
        out_dir: Output folder (made when needed).
        pictures: Write the drawn pictures and videos.
        palette: The segmentation palette for the class maps.
        checkpoint_s: Rewrite a running video's JSON at most this often (seconds).
    """

    def __init__(self, out_dir: str, pictures: bool = True, palette=None,
                 checkpoint_s: float = 10.):
        self.out_dir, self.pictures, self.palette = out_dir, pictures, palette
        self.checkpoint_s = checkpoint_s
        self.written: List[str] = []
        self.renamed: List[str] = []  # 'input -> name' for inputs whose stem was taken
        self.images, self.persons = 0, 0
        self._names: Dict[str, tuple] = {}  # output name -> the input it belongs to
        self._video_key, self._video_entries, self._video_writer = None, [], None
        self._video_json = self._video_mp4 = None
        self._video_saved, self._video_part = 0., None

    def _path(self, sub: str, name: str) -> str:
        folder = osp.join(self.out_dir, sub)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise OSError(e.errno, f'cannot make the folder {folder}: {e.strerror}') from None
        return osp.join(folder, name)

    def name_of(self, stem: str, key: tuple, what: str) -> str:
        """A name for the files of input ``key`` (its path and source): ``stem``, or
        ``stem-2``, ``stem-3``... when another input of this run has taken it."""
        name, n = stem, 1
        while self._names.setdefault(name, key) != key:
            n += 1
            name = f'{stem}-{n}'
        if n > 1 and len(self.renamed) < 1000:
            self.renamed.append(f'{what} -> {name}')
        return name

    def _record(self, path: str) -> None:
        if path not in self.written:
            self.written.append(path)

    def _dump(self, path: str, entries: list) -> None:
        try:
            text = json.dumps(entries, allow_nan=False)
        except ValueError:
            raise ValueError(f'{path}: the results hold NaN or inf, which JSON cannot hold; '
                             'not written') from None
        write_file(path, text)
        self._record(path)

    def write(self, frame: Frame, result: dict, picture: Optional[np.ndarray], position: int):
        self.images += 1
        self.persons += len(result['persons'])
        entries = to_coco_results(result, image_id_of(frame, position))
        if frame.video:
            key = (frame.path, frame.source)
            if key != self._video_key:
                self.close_video()
                self._video_key = key
                name = self.name_of(key[1], key, frame.path or key[1])
                self._video_json = self._path('predictions', f'{name}.json')
                self._video_mp4 = self._path('vis', f'{name}.mp4')
                self._video_saved = time.monotonic()
            for entry in entries:
                entry['frame'] = frame.index
            self._video_entries += entries
            if picture is not None and self.pictures:
                self._write_video_frame(frame, picture)
            if time.monotonic() - self._video_saved >= self.checkpoint_s:
                self._dump(self._video_json, self._video_entries)  # a checkpoint
                self._video_saved = time.monotonic()
            name = None
        else:
            key = (frame.path or f'array {position}', '')
            name = self.name_of(frame.name, key, frame.path or frame.name)
            self._dump(self._path('predictions', f'{name}.json'), entries)
            if picture is not None and self.pictures:
                path = self._path('vis', f'{name}.jpg')
                ok, data = cv2.imencode('.jpg', picture)
                if not ok:
                    raise OSError(f'cannot encode the picture {path} (OpenCV has no JPEG '
                                  'encoder here)')
                write_file(path, data.tobytes())
                self._record(path)
        if 'class_map' in result:
            path = self._path('seg', f'{name or frame.name}.png')
            save_class_map(result['class_map'], path, self.palette)
            self._record(path)

    def _write_video_frame(self, frame: Frame, picture: np.ndarray):
        if self._video_writer is None:
            folder, name = osp.split(self._video_mp4)
            part = osp.join(folder, f'.{name[:-len(".mp4")]}{PART_SUFFIX}')
            h, w = picture.shape[:2]
            self._video_writer = cv2.VideoWriter(part, cv2.VideoWriter_fourcc(*'mp4v'),
                                                 frame.fps or 30., (w, h))
            if not self._video_writer.isOpened():
                self._video_writer = None
                raise OSError(f'cannot write video {self._video_mp4} (OpenCV has no mp4v '
                              'encoder here, or the folder is not writable)')
            self._video_part = part
        self._video_writer.write(picture)

    def close_video(self):
        """Finishes the current video: its JSON (all kept frames so far) and its mp4 (renamed
        from its temporary name once complete)."""
        try:
            if self._video_json is not None:
                self._dump(self._video_json, self._video_entries)
        finally:
            if self._video_writer is not None:
                self._video_writer.release()
                if osp.getsize(self._video_part) > 0:
                    os.replace(self._video_part, self._video_mp4)
                    self._record(self._video_mp4)
            self._video_key, self._video_entries, self._video_writer = None, [], None
            self._video_json = self._video_mp4 = None

    close = close_video
