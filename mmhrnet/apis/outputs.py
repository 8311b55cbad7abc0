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
import sys
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmhrnet.utils.checkpoint import atomic_write

from .sources import Frame, InferenceInputError, fit_boxes, iter_frames, load_bbox_file

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


def planned_image_ids(inputs) -> Optional[list]:
    """The COCO image ids (:func:`image_id_of`) that ``inputs`` will give, without reading them;
    None when they include a video or a webcam (whose ids are frame indices)."""
    from .sources import folder_images, source_kind
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
            (see :func:`image_id_of`), instead of the inferencer's detector. Checked first
            (:func:`~mmhrnet.apis.sources.load_bbox_file`); boxes are clipped to their image
            and a box mostly outside it is an error; no input id in the file is an error, some
            inputs without boxes are a warning.
        checkpoint_s: Rewrite a running video's JSON at most this often (seconds).

    Returns:
        dict: ``images``, ``persons``, ``seconds``, ``images_per_s``, ``written`` (files),
        ``renamed`` (inputs whose files got a ``-2``... name), ``warnings`` (lines). On an
        error (or Ctrl-C) the files written so far stay complete and the error propagates.
    """
    if show and sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        # OpenCV's Qt window aborts the process without a display: refuse before starting
        raise OSError('--show needs a display (DISPLAY is not set); use --out-dir and look at '
                      'the pictures instead')
    boxes_by_id = load_bbox_file(bbox_file) if bbox_file else None
    if boxes_by_id is not None:
        _check_bbox_ids(boxes_by_id, inputs, bbox_file)
    writer = ResultWriter(out_dir, pictures, _seg_palette(inferencer),
                          checkpoint_s) if out_dir else None
    bar = Progress(count_frames(inputs, every)) if progress else None
    start, images = time.perf_counter(), 0
    draw = show or (writer is not None and pictures)
    no_boxes, used_ids = [], set()
    try:
        for position, frame in enumerate(iter_frames(inputs, every)):
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
