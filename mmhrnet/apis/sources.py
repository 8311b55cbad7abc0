"""Inputs of the inferencer: images, arrays, lists, folders, video files and webcams as frames.

Every source becomes a stream of :class:`Frame` (a BGR ``uint8`` array, as OpenCV and the
OpenMMLab test pipelines read it, with a name and an index), read lazily, so a folder or a
video is never held in memory whole and the results of earlier frames are out before a bad
one stops the run.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, Optional

import cv2
import numpy as np

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg')


class InferenceInputError(ValueError):
    """An input the inferencer cannot read; the message names it."""


@dataclass
class Frame:
    """One image or video frame.

    Attributes:
        image: ``(H, W, 3)`` BGR uint8.
        name: File stem (image), ``<video stem>_<frame index>`` or ``array_<i>``.
        index: Frame index in its video (0 for an image).
        path: The image or video file; None for arrays and webcams.
        video: Whether the frame comes from a video or a webcam.
        fps: Frames per second of its video (0 for an image).
        source: The stem of its video or webcam (``''`` for an image).
    """
    image: np.ndarray
    name: str
    index: int = 0
    path: Optional[str] = None
    video: bool = False
    fps: float = 0.
    source: str = ''


def source_kind(item) -> str:
    """Returns ``'array'``, ``'webcam'``, ``'folder'``, ``'video'`` or ``'image'`` for an input.

    Raises:
        InferenceInputError: A path that does not exist or has an unknown extension.
    """
    if isinstance(item, np.ndarray):
        return 'array'
    if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
        return 'webcam'
    if not isinstance(item, (str, os.PathLike)):
        raise InferenceInputError(f'input {item!r} is not a path, an image array or a webcam '
                                  f'index')
    path = os.fspath(item)
    if osp.isdir(path):
        return 'folder'
    if not osp.exists(path):
        raise InferenceInputError(f'input {path} does not exist')
    ext = osp.splitext(path)[1].lower()
    if ext in VIDEO_EXTENSIONS:
        return 'video'
    if ext in IMAGE_EXTENSIONS:
        return 'image'
    raise InferenceInputError(f'input {path}: unknown file type {ext!r} (images: '
                              f'{", ".join(IMAGE_EXTENSIONS)}; videos: '
                              f'{", ".join(VIDEO_EXTENSIONS)})')


def folder_images(folder: str) -> list:
    """The image files of a folder (not recursive), sorted by name."""
    names = sorted(n for n in os.listdir(folder) if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
    if not names:
        raise InferenceInputError(f'folder {folder} holds no images '
                                  f'({", ".join(IMAGE_EXTENSIONS)})')
    return [osp.join(folder, n) for n in names]


def read_image(path: str) -> np.ndarray:
    """Reads an image file as BGR uint8.

    Raises:
        InferenceInputError: naming the file when it is unreadable (empty, not an image) or a
            truncated JPEG / PNG, which OpenCV decodes without an error, the missing rows grey
            (mmcv's and mmpose's readers run on such a file silently).
    """
    from mmhrnet.validation import truncation_problem
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise InferenceInputError(f'image {path} cannot be read (not an image, or corrupt)')
    problem = truncation_problem(path)
    if problem is not None:
        raise InferenceInputError(f'image {path} is {problem}')
    return image


def _check_array(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise InferenceInputError(f'{name}: expected an (H, W, 3) BGR uint8 image, got '
                                  f'{image.dtype} {image.shape}')
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def video_frames(source, every: int = 1, max_frames: Optional[int] = None) -> Iterator[Frame]:
    """Reads a video file or a webcam (an int index) with OpenCV, every ``every``-th frame.

    Raises:
        InferenceInputError: The video or camera does not open or yields no frame.
    """
    webcam = not isinstance(source, (str, os.PathLike)) or str(source).isdigit()
    capture = cv2.VideoCapture(int(source) if webcam else os.fspath(source))
    what = f'webcam {source}' if webcam else f'video {source}'
    if not capture.isOpened():
        raise InferenceInputError(f'{what} does not open (missing codec, not a video, or no '
                                  f'such camera)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.
    stem = f'webcam{source}' if webcam else osp.splitext(osp.basename(source))[0]
    index, yielded = 0, 0
    try:
        while max_frames is None or yielded < max_frames:
            if index % every:
                ok = capture.grab()  # skipped frames are not decoded
            else:
                ok, image = capture.read()
            if not ok:
                break
            if index % every == 0:
                yield Frame(image, f'{stem}_{index:06d}', index,
                            None if webcam else os.fspath(source), True, fps, stem)
                yielded += 1
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise InferenceInputError(f'{what} opened but yields no frame (empty or unreadable)')


def count_frames(inputs, every: int = 1) -> Optional[int]:
    """How many frames ``inputs`` give, without reading them (None for a webcam)."""
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


def iter_frames(inputs, every: int = 1) -> Iterator[Frame]:
    """Yields the frames of an image path / array, a list of them, a folder, a video or a webcam.

    Args:
        inputs: A path, a BGR array, a webcam index (int or digit string), or a list of paths
            and arrays.
        every: Keep every ``every``-th frame of a video (images are all kept).
    """
    if every < 1:
        raise ValueError(f'every = {every} must be >= 1')
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for i, item in enumerate(items):
        kind = source_kind(item)
        if kind == 'array':
            yield Frame(_check_array(item, f'array input {i}'), f'array_{i}')
        elif kind in ('webcam', 'video'):
            yield from video_frames(item, every)
        else:
            paths = folder_images(os.fspath(item)) if kind == 'folder' else [os.fspath(item)]
            for path in paths:
                yield Frame(read_image(path), osp.splitext(osp.basename(path))[0], path=path)


def load_bbox_file(path: str, category_id: int = 1) -> dict:
    """Person boxes from a COCO detection results json (as mmpose's ``bbox_file``).

    The file is checked as the datasets check theirs
    (:func:`mmhrnet.validation.check_detections`): a non-finite number, a negative size, a
    missing key or a non-integer id is one error naming the file and the detection.
    Zero-size boxes are skipped (with one warning line). ``category_id`` may be absent (a
    person).

    Returns:
        dict: image id -> ``(N, 5)`` array of ``x1, y1, x2, y2, score``.

    Raises:
        InferenceInputError: The file is missing, not JSON or malformed.
    """
    from mmhrnet.validation import MalformedInputError, load_detections
    try:
        return load_detections(path, category_id, need_category=False, what='bbox file')
    except (OSError, MalformedInputError) as e:
        raise InferenceInputError(str(e)) from None


# A given box must lie at least this much inside its image (fraction of its area): a box
# mostly outside was made for another image, or for this one at another size.
MIN_INSIDE = 0.5


def fit_boxes(boxes: np.ndarray, width: int, height: int, where: str) -> np.ndarray:
    """Clips given ``(N, 5)`` xyxy + score boxes to a ``width`` x ``height`` image.

    Raises:
        InferenceInputError: A box less than half inside the image (``where`` names the file
            and image in the message).
    """
    if not len(boxes):
        return boxes
    clipped = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    outside = np.flatnonzero(inside < MIN_INSIDE * area)
    if len(outside):
        x1, y1, x2, y2 = boxes[outside[0], :4]
        raise InferenceInputError(
            f'{where}: box [x={x1:g}, y={y1:g}, w={x2 - x1:g}, h={y2 - y1:g}] lies '
            f'{1 - inside[outside[0]] / area[outside[0]]:.0%} outside the {width}x{height} '
            f'image ({len(outside)} such box(es); boxes of another image, or of this one at '
            'another size?)')
    return clipped
