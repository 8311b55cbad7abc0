"""Format check and packaging of COCO results for the test-dev leaderboard (CodaLab).

The server wants one json per task named ``[type]_[testset]_[alg]_results.json`` (type
``person_keypoints`` for keypoints, ``detections`` for boxes and for masks), zipped. The inputs
are what ``format_only=True`` writes: mmpose's ``CocoMetric`` ``<prefix>.keypoints.json``,
mmdet's ``CocoMetric`` ``<prefix>.bbox.json`` and ``<prefix>.segm.json``.
"""
import json
import math
import os
import re
import tempfile
import zipfile
from numbers import Real
from pathlib import Path

from mmhrnet.tasks import SUBMISSION_FILES

TASKS = tuple(SUBMISSION_FILES)  # the result kinds: 'keypoints', 'bbox', 'segm'
NUM_KEYPOINT_VALUES = 17 * 3
SAFE_NAME = re.compile(r'[A-Za-z0-9_-]+')
MAX_LISTED_PROBLEMS = 5


class SubmissionFormatError(ValueError):
    """A results or image-info file the COCO evaluation server would reject or misread."""


def _where(source):
    return f'{source}: ' if source is not None else ''


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value):
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _finite_list_problem(field, value, length):
    """Describes why ``value`` is not a list of ``length`` finite numbers, or returns None."""
    if not isinstance(value, list):
        return f'{field} must be a list of {length} numbers, got {type(value).__name__}'
    if len(value) != length:
        return f'{field} has {len(value)} values, expected {length}'
    bad = [i for i, v in enumerate(value) if not _is_finite(v)]
    if bad:
        return f'{field}[{bad[0]}] = {value[bad[0]]!r} is not a finite number'
    return None


def _entry_problems(entry, task, image_ids, category_ids):
    """Lists the problems of one result entry (empty when it is valid)."""
    if not isinstance(entry, dict):
        return [f'is a {type(entry).__name__}, not a dict']
    problems = []
    result_key = {'keypoints': 'keypoints', 'bbox': 'bbox', 'segm': 'segmentation'}[task]
    for key in ('image_id', 'category_id', 'score', result_key):
        if key not in entry:
            problems.append(f'{key} is missing')
    if 'image_id' in entry:
        image_id = entry['image_id']
        if not _is_int(image_id):
            problems.append(f'image_id {image_id!r} is not an int')
        elif image_id not in image_ids:
            problems.append(f'image_id {image_id} is not in the image info')
    if 'category_id' in entry:
        cat = entry['category_id']
        if task == 'keypoints':
            if not _is_int(cat) or cat != 1:
                problems.append(f'category_id {cat!r} is not 1 (person)')
        elif not _is_int(cat):
            problems.append(f'category_id {cat!r} is not an int')
        elif category_ids is not None and cat not in category_ids:
            problems.append(f'category_id {cat} is not a category of the image info')
    if 'score' in entry and not _is_finite(entry['score']):
        problems.append(f"score {entry['score']!r} is not a finite number")
    if task == 'keypoints' and 'keypoints' in entry:
        problem = _finite_list_problem('keypoints', entry['keypoints'], NUM_KEYPOINT_VALUES)
        problems += [problem] if problem else []
    elif task == 'bbox' and 'bbox' in entry:
        problem = _finite_list_problem('bbox', entry['bbox'], 4)
        if problem:
            problems.append(problem)
        elif entry['bbox'][2] < 0 or entry['bbox'][3] < 0:
            problems.append(f"bbox {entry['bbox']} has a negative width or height")
    elif task == 'segm' and 'segmentation' in entry:
        problems += _rle_problems(entry['segmentation'])
    return problems


def _rle_problems(rle):
    """Lists why ``rle`` is not a COCO RLE dict (``size`` [h, w] and ``counts``)."""
    if not isinstance(rle, dict):
        return [f'segmentation must be an RLE dict with size and counts, '
                f'got {type(rle).__name__}']
    problems = []
    if 'size' not in rle:
        problems.append('segmentation.size is missing')
    else:
        size = rle['size']
        if (not isinstance(size, list) or len(size) != 2
                or not all(_is_int(s) and s >= 0 for s in size)):
            problems.append(f'segmentation.size {size!r} is not [height, width] of ints >= 0')
    if 'counts' not in rle:
        problems.append('segmentation.counts is missing')
    elif not isinstance(rle['counts'], (str, list)):
        problems.append(f"segmentation.counts must be a str or a list, "
                        f"got {type(rle['counts']).__name__}")
    return problems


def check_results(results, image_ids, task, category_ids=None, source=None):
    """Checks loaded COCO results against the upload format of one task.

    Args:
        results: The loaded results json: a non-empty list of result dicts.
        image_ids: The valid image ids (see :func:`load_image_ids`).
        task: ``'keypoints'``, ``'bbox'`` or ``'segm'``.
        category_ids: Valid category ids for ``bbox`` / ``segm``; None accepts any int.
            Keypoint results must have category 1 (person) regardless.
        source: The file the results came from, named in the error.

    Returns:
        dict: ``task``, ``entries``, ``images`` (images with at least one result) and
        ``images_total``.

    Raises:
        SubmissionFormatError: One error for all problems, with the number of bad entries and
            the first few problems as ``entry <index>: <problem>``.
    """
    if task not in TASKS:
        raise ValueError(f'task = {task!r} must be one of {TASKS}')
    where = _where(source)
    if not isinstance(results, list):
        raise SubmissionFormatError(
            f'{where}results must be a JSON list of result dicts, got {type(results).__name__}')
    if not results:
        raise SubmissionFormatError(f'{where}results are an empty list')
    image_ids = set(image_ids)
    category_ids = None if category_ids is None else set(category_ids)
    problems, bad_entries = [], 0
    for index, entry in enumerate(results):
        entry_problems = _entry_problems(entry, task, image_ids, category_ids)
        bad_entries += bool(entry_problems)
        problems += [f'entry {index}: {p}' for p in entry_problems]
    if problems:
        listed = '\n  '.join(problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        tail = f'\n  ... and {more} more problem(s)' if more > 0 else ''
        raise SubmissionFormatError(
            f'{where}{bad_entries} of {len(results)} entries are not valid COCO {task} results:'
            f'\n  {listed}{tail}')
    return dict(task=task, entries=len(results),
                images=len({entry['image_id'] for entry in results}),
                images_total=len(image_ids))


def _load_json(path, what):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{what} {path} does not exist or is not a file')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SubmissionFormatError(f'{path}: {what} is not valid JSON ({e})') from None


def load_results(results_file):
    """Loads a results json; FileNotFoundError or SubmissionFormatError naming the file."""
    return _load_json(results_file, 'results')


def load_image_ids(image_info_file):
    """Reads the image and category ids of a COCO image-info or annotation json.

    Args:
        image_info_file: E.g. ``image_info_test-dev2017.json`` or an instances / keypoints
            annotation file.

    Returns:
        tuple[set[int], set[int]]: The image ids and the category ids (empty when the file has
        no ``categories``).

    Raises:
        FileNotFoundError: The file is missing.
        SubmissionFormatError: It is not JSON, has no ``images`` or an image without an int id.
    """
    info = _load_json(image_info_file, 'image info')
    images = info.get('images') if isinstance(info, dict) else None
    if not isinstance(images, list) or not images:
        raise SubmissionFormatError(
            f"{image_info_file}: image info has no 'images' list (is it a COCO image-info or "
            f"annotation json?)")
    bad = [i for i, img in enumerate(images) if not (isinstance(img, dict)
                                                       and _is_int(img.get('id')))]
    if bad:
        raise SubmissionFormatError(
            f"{image_info_file}: images[{bad[0]}] has no int 'id' ({len(bad)} such images)")
    categories = info.get('categories') or []
    category_ids = {c['id'] for c in categories if isinstance(c, dict) and _is_int(c.get('id'))}
    return {img['id'] for img in images}, category_ids


def submission_filename(task, name, testset='test-dev2017'):
    """Returns ``[type]_[testset]_[alg]_results.json`` for a task and an algorithm name."""
    if task not in TASKS:
        raise ValueError(f'task = {task!r} must be one of {TASKS}')
    for label, value in (('name', name), ('testset', testset)):
        if not isinstance(value, str) or not SAFE_NAME.fullmatch(value):
            raise ValueError(f"{label} = {value!r} must be a non-empty string of letters, digits, "
                             f"'-' and '_'")
    return f'{SUBMISSION_FILES[task]}_{testset}_{name}_results.json'


def package_submission(results_file, out_dir, name, task, image_info_file,
                       testset='test-dev2017'):
    """Checks a results json and writes it, named and zipped, for the COCO server.

    Nothing is written unless the results pass :func:`check_results`. The json and the zip are
    written to temporary files in ``out_dir`` and renamed into place, so a failure leaves no
    partial file and does not touch an existing submission of the same name (a successful run
    replaces it).

    Args:
        results_file: E.g. ``<prefix>.keypoints.json``, ``<prefix>.bbox.json`` or
            ``<prefix>.segm.json`` from ``CocoMetric(format_only=True)``.
        out_dir: Where to write; created if missing.
        name: The algorithm name: letters, digits, ``-`` and ``_``.
        task: ``'keypoints'``, ``'bbox'`` or ``'segm'``.
        image_info_file: The image info of the test set, e.g. ``image_info_test-dev2017.json``.
        testset: The split in the file name, e.g. ``'test-dev2017'`` or ``'val2017'``.

    Returns:
        dict: ``json`` and ``zip`` (the written paths) and ``summary`` (from
        :func:`check_results`).
    """
    filename = submission_filename(task, name, testset)
    image_ids, category_ids = load_image_ids(image_info_file)
    results = load_results(results_file)
    summary = check_results(results, image_ids, task, category_ids=category_ids or None,
                            source=results_file)
    payload = json.dumps(results, separators=(',', ':'), allow_nan=False).encode('utf-8')

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / filename
    zip_path = out_dir / (filename[:-len('.json')] + '.zip')
    temps = []
    try:
        for _ in range(2):
            fd, temp = tempfile.mkstemp(dir=out_dir, prefix=f'.{filename}.', suffix='.tmp')
            os.close(fd)
            temps.append(temp)
        with open(temps[0], 'wb') as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        with zipfile.ZipFile(temps[1], 'w', compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(filename, payload)
        for temp, final in zip(temps, (json_path, zip_path)):
            os.chmod(temp, 0o644)  # mkstemp makes 0o600
            os.replace(temp, final)
    finally:
        for temp in temps:
            if os.path.exists(temp):
                os.remove(temp)
    return dict(json=json_path, zip=zip_path, summary=summary)
