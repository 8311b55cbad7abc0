"""Drawing the synthetic people: figures, backgrounds, clutter, annotations of one image."""
import colorsys
import os.path as osp

import cv2
import numpy as np

from .meta import (COCO_KEYPOINTS, HEAD, JPEG_QUALITY, KEYPOINT_PARTS, L_LOWER_ARM, L_LOWER_LEG,
                  L_UPPER_ARM, L_UPPER_LEG, MAX_PERSONS, MIN_VISIBLE_AREA, POLYGON_TOLERANCE,
                  R_LOWER_ARM, R_LOWER_LEG, R_UPPER_ARM, R_UPPER_LEG, SPLIT_CODE, TORSO, image_id)

_SHIFT = 4  # sub-pixel bits for cv2 drawing, so small figures keep their proportions
_ONE = 1 << _SHIFT
_SKIN_TONES = ((224, 232, 255), (189, 208, 241), (160, 190, 224), (125, 165, 198),
               (95, 134, 172), (66, 100, 141), (45, 70, 101), (35, 50, 70))  # BGR


# --------------------------------------------------------------------------- drawing primitives


def _fx(points):
    return np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)


def _circle(canvas, centre, radius, colour):
    cv2.circle(canvas, tuple(int(v) for v in _fx(centre)), max(int(round(radius * _ONE)), 1),
               colour, -1, cv2.LINE_8, _SHIFT)


def _capsule(canvas, p0, p1, radius, colour):
    p0, p1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
    d = p1 - p0
    length = np.hypot(*d)
    if length > 1e-6:
        n = np.array([-d[1], d[0]]) / length * radius
        cv2.fillConvexPoly(canvas, _fx([p0 + n, p1 + n, p1 - n, p0 - n]), colour, cv2.LINE_8,
                           _SHIFT)
    _circle(canvas, p0, radius, colour)
    _circle(canvas, p1, radius, colour)


def _polygon(canvas, points, colour):
    cv2.fillPoly(canvas, [_fx(points)], colour, cv2.LINE_8, _SHIFT)


def _ellipse_points(centre, rx, ry, angle, t0=0.0, t1=2 * np.pi, num=36, endpoint=False):
    t = np.linspace(t0, t1, num, endpoint=endpoint)
    c, s = np.cos(angle), np.sin(angle)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return np.stack([centre[0] + c * x - s * y, centre[1] + s * x + c * y], axis=1)


# ------------------------------------------------------------------------------------ sampling


def _colour(rng, sat=(0.25, 1.0), val=(0.15, 1.0)):
    """A random BGR colour as a tuple of ints (what cv2 wants)."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val))
    return (int(b * 255), int(g * 255), int(r * 255))


def _shade(colour, factor):
    return tuple(int(min(255, c * factor)) for c in colour)


def _rot(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _limb(start, side, abduction, bend, lengths):
    """Joint positions of a two-segment limb; angles are from straight down, positive outwards.

    ``side`` is +1 for the person's left, which a front-facing person shows on the image's right.
    """
    def direction(phi):
        return np.array([side * np.sin(phi), np.cos(phi)])

    mid = start + lengths[0] * direction(abduction)
    return mid, mid + lengths[1] * direction(abduction + bend)


def sample_person(rng, size, inside=False):
    """Pose, proportions, colours and placement of one person.

    Args:
        rng (np.random.Generator): Random source.
        size (tuple[int, int]): Image (H, W).
        inside (bool): Keep the whole figure inside the image.

    Returns:
        dict: ``keypoints`` (17, 2) in pixel-index coordinates, ``ops``: the draw operations
        (``(kind, part, geometry, colours)``, in painting order) that :func:`render_people` runs.
    """
    H, W = size
    deg = np.pi / 180
    u = rng.uniform
    # Body in units of its standing height, origin at mid-hip, y down, +x = person's left.
    T, neck = u(0.29, 0.33), u(0.02, 0.035)
    head_ry = u(0.055, 0.068)
    head_rx = head_ry * u(0.72, 0.88)
    sw, hw = u(0.095, 0.125), u(0.065, 0.085)
    arm_len = (u(0.14, 0.17), u(0.13, 0.16))
    leg_len = (u(0.22, 0.26), u(0.21, 0.25))
    r_arm = (u(0.022, 0.03), u(0.018, 0.025))
    r_leg = (u(0.033, 0.045), u(0.026, 0.035))
    standing = T + neck + 1.8 * head_ry + sum(leg_len)

    kp = np.zeros((17, 2))
    neck_base = np.array([0.0, -T])
    head_c = np.array([0.0, -T - neck - 0.8 * head_ry])
    roll = u(-15, 15) * deg
    head_c = neck_base + _rot(roll) @ (head_c - neck_base)
    # Face marks in head coordinates (rx, ry units), rotated with the head.
    face = dict(nose=(0.0, 0.15), left_eye=(0.38, -0.12), right_eye=(-0.38, -0.12),
                left_ear=(0.97, -0.05), right_ear=(-0.97, -0.05))

    def on_head(x, y):
        return head_c + _rot(roll) @ np.array([x * head_rx, y * head_ry])

    for i, name in enumerate(COCO_KEYPOINTS[:5]):
        kp[i] = on_head(*face[name])
    for side, (sh, el, wr) in ((1, (5, 7, 9)), (-1, (6, 8, 10))):
        kp[sh] = (side * sw, -T + 0.02)
        fore = (u(0.7, 1.0) * arm_len[0], u(0.6, 1.0) * arm_len[1])
        kp[el], kp[wr] = _limb(kp[sh], side, u(-20, 170) * deg, u(-110, 110) * deg, fore)
    for side, (hp, kn, an) in ((1, (11, 13, 15)), (-1, (12, 14, 16))):
        kp[hp] = (side * hw, 0.0)
        fore = (u(0.75, 1.0) * leg_len[0], u(0.75, 1.0) * leg_len[1])
        kp[kn], kp[an] = _limb(kp[hp], side, u(-8, 40) * deg, u(-50, 30) * deg, fore)

    pad_s, pad_h = sw + 0.6 * r_arm[0], hw + 0.7 * r_leg[0]
    torso = np.array([[-pad_s, -T], [pad_s, -T], [pad_h, 0.03], [-pad_h, 0.03]])
    head = _ellipse_points(head_c, head_rx, head_ry, roll)
    # Hair: the cap of the head ellipse above a chord, which stays inside the (convex) head.
    hair_top = u(0.2, 0.45) * np.pi
    hair = _ellipse_points(head_c, head_rx, head_ry, roll, np.pi + hair_top / 2,
                           2 * np.pi - hair_top / 2, 16, endpoint=True)
    ears = [_ellipse_points(on_head(s * 0.97, -0.05), 0.22 * head_rx, 0.32 * head_ry, roll, num=12)
            for s in (1, -1)]
    nose = np.array([on_head(0, -0.05), on_head(0.13, 0.22), on_head(-0.13, 0.22)])
    mouth = np.array([on_head(-0.22, 0.52), on_head(0.22, 0.52)])

    # Lean the upper body about the hips, then tilt, squash and scale the whole figure.
    lean = _rot(u(-12, 12) * deg)
    upper = np.r_[0:11]
    kp[upper] = kp[upper] @ lean.T
    torso[:2] = torso[:2] @ lean.T
    head, hair, nose, mouth = (a @ lean.T for a in (head, hair, nose, mouth))
    ears = [a @ lean.T for a in ears]
    neck_base, head_c = neck_base @ lean.T, head_c @ lean.T
    band_top = torso[[3, 2]] + 0.18 * (torso[[0, 1]] - torso[[3, 2]])
    band = np.concatenate([band_top, torso[[2, 3]]])

    height = u(0.3, 0.9) * H
    aspect = u(0.85, 1.15)
    A = _rot(u(-8, 8) * deg) @ np.diag([aspect, 1.0]) * (height / standing)
    r_scale = np.sqrt(aspect) * height / standing

    shapes = dict(kp=kp, torso=torso, band=band, head=head, hair=hair, nose=nose, mouth=mouth,
                  ear_l=ears[0], ear_r=ears[1], neck=np.stack([neck_base, head_c]))
    shapes = {k: v @ A.T for k, v in shapes.items()}
    pts = np.concatenate(list(shapes.values()))
    pad = r_scale * max(r_leg[0], r_arm[0])
    lo, hi = pts.min(0) - pad, pts.max(0) + pad
    box = hi - lo
    room = np.array([W, H]) - box
    offset = np.where(room > 0, rng.uniform(0, 1, 2) * np.maximum(room, 0), room / 2) - lo
    if not inside and rng.random() < 0.3:
        # Push the figure partly out of the frame; cut-off legs are the most common case.
        axis, sign = [(0, -1), (0, 1), (1, -1), (1, 1), (1, 1)][rng.integers(5)]
        cut = rng.uniform(0.1, 0.5) * box[axis]
        start = -cut if sign < 0 else (W, H)[axis] - box[axis] + cut
        offset[axis] = start - lo[axis]
    shapes = {k: v + offset for k, v in shapes.items()}
    kp = shapes['kp']

    skin = tuple(int(np.clip(c + rng.integers(-15, 16), 0, 255))
                 for c in _SKIN_TONES[rng.integers(len(_SKIN_TONES))])
    shirt, pants, hair_c = _colour(rng), _colour(rng), _colour(rng, (0.2, 0.8), (0.05, 0.6))
    sleeve = shirt if rng.random() < 0.5 else skin
    shin = pants if rng.random() < 0.7 else skin
    edge = 0.5 + 0.3 * rng.random()

    def capsule(part, a, b, radius, colour):
        return ('capsule', part, (kp[a], kp[b], radius * r_scale), (colour, _shade(colour, edge)))

    ops = []
    for up_part, low_part, (hp, kn, an) in ((L_UPPER_LEG, L_LOWER_LEG, (11, 13, 15)),
                                            (R_UPPER_LEG, R_LOWER_LEG, (12, 14, 16))):
        ops.append(capsule(up_part, hp, kn, r_leg[0], pants))
        ops.append(capsule(low_part, kn, an, r_leg[1], shin))
    ops.append(('polygon', TORSO, shapes['torso'], (shirt, )))
    ops.append(('decor', TORSO, shapes['band'], (_shade(pants, 0.8), )))
    neck_r = 0.45 * head_rx * r_scale
    ops.append(('capsule', HEAD, (*shapes['neck'], neck_r), (skin, _shade(skin, 0.8))))
    ops += [('polygon', HEAD, shapes[k], (_shade(skin, 0.9), )) for k in ('ear_l', 'ear_r')]
    ops.append(('polygon', HEAD, shapes['head'], (skin, )))
    ops.append(('decor', HEAD, shapes['hair'], (hair_c, )))
    eye_r = 0.17 * head_rx * r_scale
    for e in (1, 2):
        ops.append(('dot', HEAD, (kp[e], eye_r), ((245, 245, 245), (40, 25, 20))))
    ops.append(('decor', HEAD, shapes['nose'], (_shade(skin, 0.6), )))
    ops.append(('line', HEAD, (*shapes['mouth'], 0.06 * head_ry * r_scale), ((40, 30, 150), )))
    arms = [((L_UPPER_ARM, L_LOWER_ARM), (5, 7, 9)), ((R_UPPER_ARM, R_LOWER_ARM), (6, 8, 10))]
    for (up_part, low_part), (sh, el, wr) in [arms[i] for i in rng.permutation(2)]:
        ops.append(capsule(up_part, sh, el, r_arm[0], shirt))
        ops.append(capsule(low_part, el, wr, r_arm[1], sleeve))
    return dict(keypoints=kp, ops=ops)


def _sample_background(rng, size):
    H, W = size
    # Linear gradient between two colours in a random direction.
    angle = rng.uniform(0, 2 * np.pi)
    xx = np.arange(W, dtype=np.float32)[None, :]
    yy = np.arange(H, dtype=np.float32)[:, None]
    t = np.cos(angle) * xx / W + np.sin(angle) * yy / H
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    c0 = np.array(_colour(rng, (0, 0.8), (0.2, 1.0)), np.float32)
    c1 = np.array(_colour(rng, (0, 0.8), (0.2, 1.0)), np.float32)
    # Low-frequency colour noise at a random scale reads as texture.
    cell = int(rng.choice([4, 8, 16, 32]))
    noise = rng.standard_normal((H // cell + 2, W // cell + 2, 3)).astype(np.float32)
    noise *= rng.uniform(0, 35)
    if rng.random() < 0.3:
        period, phase = rng.uniform(6, 40), rng.uniform(0, 2 * np.pi)
        d = np.cos(angle + np.pi / 2) * xx + np.sin(angle + np.pi / 2) * yy
        t = t + rng.uniform(0.05, 0.2) * np.sign(np.sin(2 * np.pi * d / period + phase))
    img = cv2.resize(noise, (W, H), interpolation=cv2.INTER_CUBIC)
    # Per-channel 2-D arithmetic: numpy broadcasting over a trailing axis of 3 is ~10x slower.
    img += cv2.merge([c0[k] + (c1[k] - c0[k]) * t for k in range(3)])
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(3, 13)):
        _draw_clutter(rng, img, size, scale=(0.03, 0.3))
    return img


def _draw_clutter(rng, img, size, scale, label_map=None):
    """One random non-person shape; also clears ``label_map`` under it when given."""
    H, W = size
    colour = _colour(rng)
    c = rng.uniform(0, 1, 2) * (W, H)
    r = rng.uniform(*scale, 2) * min(H, W)
    kind = rng.integers(5)
    canvases = [(img, colour)] + ([(label_map, 0)] if label_map is not None else [])
    if kind == 0:
        pts = c + np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * r @ _rot(rng.uniform(0, 3)).T
    elif kind == 1:
        pts = _ellipse_points(c, r[0], r[1], rng.uniform(0, np.pi))
    elif kind == 2:
        ang = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 7)))
        rad = rng.uniform(0.4, 1.0, len(ang)) * r.max()
        pts = c + np.stack([np.cos(ang), np.sin(ang)], 1) * rad[:, None]
    else:
        # Limb-like sticks, some skin-coloured: hard negatives for a person detector.
        if kind == 4:
            canvases[0] = (img, _SKIN_TONES[rng.integers(len(_SKIN_TONES))])
        angle = rng.uniform(0, np.pi)
        d = rng.uniform(0.5, 1.5) * r.max() * np.array([np.cos(angle), np.sin(angle)])
        width = rng.uniform(0.01, 0.04) * min(H, W)
        for canvas, col in canvases:
            _capsule(canvas, c - d, c + d, width, col)
        return
    for canvas, col in canvases:
        _polygon(canvas, pts, col)


# ----------------------------------------------------------------------------------- rendering


def render_people(background, people):
    """Paints ``people`` in order over a copy of ``background``.

    Returns:
        tuple: BGR image and a uint8 code map, ``16 * (person index + 1) + part`` on the
        person's visible pixels and 0 elsewhere.
    """
    img = background.copy()
    code = np.zeros(img.shape[:2], np.uint8)
    for i, person in enumerate(people, 1):
        for kind, part, geom, colours in person['ops']:
            label = 16 * i + part
            if kind == 'capsule':
                p0, p1, r = geom
                _capsule(img, p0, p1, r, colours[1])
                _capsule(img, p0, p1, max(r - max(0.8, 0.15 * r), 0.5 * r), colours[0])
                _capsule(code, p0, p1, r, label)
            elif kind == 'polygon':
                _polygon(img, geom, colours[0])
                _polygon(code, geom, label)
            # Decorations stay inside the shape under them, so they leave the labels alone.
            elif kind == 'decor':
                _polygon(img, geom, colours[0])
            elif kind == 'dot':
                _circle(img, geom[0], geom[1], colours[0])
                _circle(img, geom[0], 0.55 * geom[1], colours[1])
            elif kind == 'line':
                _capsule(img, *geom, colours[0])
    return img, code


def mask_to_polygons(mask, tolerance=POLYGON_TOLERANCE):
    """COCO polygons (pixel-corner coordinates) that decode back to ``mask``.

    Tracing a 2x upsampled mask puts the outline a quarter pixel outside the boundary pixels'
    centres, where pycocotools' rasteriser counts them in; tracing the mask itself would run
    through those centres and lose about half of the boundary pixels. Holes are spliced into
    their outer outline through a zero-width cut, which the even-odd rasteriser ignores. With
    ``tolerance=0`` the polygons decode to ``mask`` exactly.

    Args:
        mask (np.ndarray): (H, W) bool.
        tolerance (float): Largest distance, in pixels, that simplifying may move the outline.

    Returns:
        list[list[float]]: One flat ``[x0, y0, x1, y1, ...]`` polygon per connected component.
    """
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return []
    x0, y0 = xs.min(), ys.min()
    crop = np.pad(mask[y0:ys.max() + 1, x0:xs.max() + 1].astype(np.uint8), 1)
    crop = cv2.resize(crop, (crop.shape[1] * 2, crop.shape[0] * 2),
                      interpolation=cv2.INTER_NEAREST)
    contours, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    simple = []
    for c in contours:
        s = cv2.approxPolyDP(c, 2 * tolerance, True) if tolerance > 0 else c
        # A lone pixel would simplify to a segment; keep its full outline instead.
        simple.append((s if len(s) >= 3 else c).reshape(-1, 2))
    parents = hierarchy[0][:, 3]
    outlines = {k: simple[k] for k in np.flatnonzero(parents < 0)}
    for k in np.flatnonzero(parents >= 0):
        outer, hole = outlines[parents[k]], simple[k]
        dist = ((outer[:, None] - hole[None]) ** 2).sum(-1)
        i, j = np.unravel_index(dist.argmin(), dist.shape)
        outlines[parents[k]] = np.concatenate([outer[:i + 1], hole[j:], hole[:j + 1], outer[i:]])
    polygons = []
    for k in sorted(outlines):
        p = (outlines[k] + 0.5) / 2 - 1 + (x0, y0)
        if len(p) >= 3:
            polygons.append([float(v) for v in p.reshape(-1)])
    return polygons


def _finish(rng, img):
    """Camera-ish degradations, so edges are not perfectly crisp."""
    img = img.astype(np.float32) * rng.uniform(0.8, 1.15) + rng.uniform(-15, 15)
    sigma = rng.uniform(0, 0.9)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    # Grey sensor noise: a third of the cost of colour noise.
    noise = rng.standard_normal(img.shape[:2], np.float32) * rng.uniform(0, 6)
    img += cv2.merge([noise] * 3)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def render_image(rng, size=(256, 256)):
    """One synthetic image with its people.

    Args:
        rng (np.random.Generator): Random source; the image is a function of its state.
        size (tuple[int, int]): (H, W).

    Returns:
        tuple: ``image_bgr`` (H, W, 3) uint8, ``persons`` (list of dict, in painting order,
        each with ``keypoints`` (17, 3) float64 ``[x, y, v]``, ``num_keypoints``, ``mask`` (H, W)
        bool visible pixels, ``bbox`` xywh, ``area``, ``segmentation``) and ``part_map`` (H, W)
        uint8 indices into ``PART_CLASSES``.
    """
    H, W = size
    background = _sample_background(rng, size)
    count = int(rng.choice(np.arange(1, MAX_PERSONS + 1), p=[0.25, 0.3, 0.25, 0.2]))
    people = [sample_person(rng, size) for _ in range(count)]
    # Foreground objects: seeds rather than shapes, so that each pass redraws the same ones.
    occluders = [int(rng.integers(2**31)) for _ in range(int(rng.random() < 0.2))]

    def paint():
        img, code = render_people(background, people)
        for occ_seed in occluders:
            _draw_clutter(np.random.default_rng(occ_seed), img, size, (0.05, 0.15), code)
        return img, code, np.bincount((code >> 4).ravel(), minlength=len(people) + 1)[1:]

    for _ in range(8):
        img, code, areas = paint()
        if len(people) and areas.min() >= MIN_VISIBLE_AREA:
            break
        # Dropping a person only uncovers the others, so one more pass settles it; with
        # nobody left, add a person that fits in the frame.
        keep = [p for p, a in zip(people, areas) if a >= MIN_VISIBLE_AREA]
        people = keep or [sample_person(rng, size, inside=True)]
    else:
        img, code, areas = paint()

    persons = []
    for i, person in enumerate(people, 1):
        mask = (code >> 4) == i
        if areas[i - 1] < MIN_VISIBLE_AREA:
            code[mask] = 0  # only after 8 unlucky passes: drawn, but unlabelled
            continue
        kp = np.zeros((17, 3))
        for j, (x, y) in enumerate(person['keypoints']):
            if not (0 <= x <= W - 1 and 0 <= y <= H - 1):
                continue  # COCO writes unlabelled keypoints as (0, 0, 0)
            c = code[int(round(y)), int(round(x))]
            seen = (c >> 4) == i and (c & 15) in KEYPOINT_PARTS[j]
            kp[j] = (round(float(x), 2), round(float(y), 2), 2 if seen else 1)
        ys, xs = np.nonzero(mask)
        persons.append(dict(
            keypoints=kp, num_keypoints=int((kp[:, 2] > 0).sum()), mask=mask,
            bbox=[float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
                  float(ys.max() - ys.min() + 1)],
            area=float(mask.sum()), segmentation=mask_to_polygons(mask)))
    return _finish(rng, img), persons, code & 15


# ---------------------------------------------------------------------------- dataset writing


def fake_detections(rng, persons, size, img_id):
    """A detector's output for one image: jittered ground-truth boxes and a few false alarms."""
    H, W = size
    dets = []

    def clipped(x, y, w, h):
        x0, y0 = np.clip([x, y], 0, [W, H])
        x1, y1 = np.clip([x + w, y + h], 0, [W, H])
        return [round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)]

    for p in persons:
        x, y, w, h = p['bbox']
        cx, cy = x + w / 2 + rng.normal(0, 0.03) * w, y + h / 2 + rng.normal(0, 0.03) * h
        w, h = w * np.exp(rng.normal(0, 0.04)), h * np.exp(rng.normal(0, 0.04))
        dets.append(dict(image_id=img_id, category_id=1, bbox=clipped(cx - w / 2, cy - h / 2, w, h),
                         score=round(float(rng.uniform(0.8, 1.0)), 4)))
    for _ in range(rng.choice(3, p=[0.5, 0.35, 0.15])):
        w, h = rng.uniform(0.1, 0.4, 2) * (W, H)
        x, y = rng.uniform(0, 1, 2) * (W - w, H - h)
        dets.append(dict(image_id=img_id, category_id=1, bbox=clipped(x, y, w, h),
                         score=round(float(rng.uniform(0.02, 0.3)), 4)))
    return dets


def make_sample(root, split, index, size, seed):
    """Renders and writes one image and its part map under ``root``.

    Returns:
        tuple: COCO image record, its annotations and its detections.
    """
    rng = np.random.default_rng((seed, SPLIT_CODE[split], index))
    img, persons, part_map = render_image(rng, size)
    img_id = image_id(split, index)
    name = f'{img_id:012d}'
    cv2.imwrite(osp.join(root, split, name + '.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    cv2.imwrite(osp.join(root, 'parts', split, name + '.png'), part_map)
    anns = [dict(id=img_id * 10 + k, image_id=img_id, category_id=1,
                 keypoints=[float(v) if j % 3 < 2 else int(v)
                            for j, v in enumerate(p['keypoints'].ravel())],
                 num_keypoints=p['num_keypoints'], bbox=p['bbox'], area=p['area'], iscrowd=0,
                 segmentation=p['segmentation'])
            for k, p in enumerate(persons, 1)]
    # A separate stream, so the boxes do not shift when the renderer draws more or less.
    det_rng = np.random.default_rng((seed, SPLIT_CODE[split], index, 1))
    dets = fake_detections(det_rng, persons, size, img_id)
    info = dict(id=img_id, file_name=name + '.jpg', height=size[0], width=size[1])
    return info, anns, dets
