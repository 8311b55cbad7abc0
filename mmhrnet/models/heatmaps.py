"""MSRA heatmap decoding (mmpose's ``MSRAHeatmap.decode``) vectorised over persons and
keypoints: the argmax, then the quarter-pixel shift or DARK's Taylor step on the blurred
log-heatmap, for ``(N, K, H, W)`` heatmaps at once. mmpose decodes one person at a time with a
Python loop over keypoints; the top-down inference path (:mod:`mmhrnet.apis.topdown`) and the
multi-task keypoint head (:mod:`mmhrnet.multitask.keypoints`) both decode here. The results
are mmpose's to within float rounding (``tests/test_infer_batched.py``).
"""
import cv2
import numpy as np


def gaussian_blur(heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    """mmpose's ``gaussian_blur`` (zero border, peak kept) on ``(..., H, W)`` heatmaps, in one
    OpenCV call (bitwise the same as one map at a time): the maps stacked into one tall image,
    each followed by ``(kernel - 1) / 2`` zero rows, mmpose's zero padding, so that no map's
    blur reaches the next."""
    shape = heatmaps.shape
    h, w = shape[-2:]
    maps = heatmaps.reshape(-1, h, w)
    if not len(maps):
        return heatmaps.copy()
    stack = np.zeros((len(maps), h + (kernel - 1) // 2, w), maps.dtype)
    stack[:, :h] = maps
    blurred = cv2.GaussianBlur(stack.reshape(-1, w), (kernel, kernel), 0,
                               borderType=cv2.BORDER_CONSTANT)
    out = blurred.reshape(stack.shape)[:, :h]
    out = out * (maps.max(axis=(1, 2)) / out.max(axis=(1, 2)))[:, None, None]
    return out.reshape(shape)


def _gather(heatmaps: np.ndarray, x: np.ndarray, y: np.ndarray, dx: int, dy: int):
    """``heatmaps[n, k, y + dy, x + dx]`` for every person n and keypoint k (indices clipped
    into the map; the callers mask the ones that were outside)."""
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, h * w)
    index = np.clip(y + dy, 0, h - 1) * w + np.clip(x + dx, 0, w - 1)
    return np.take_along_axis(flat, index[..., None], axis=2)[..., 0]


def refine_shift(keypoints: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """mmpose's ``refine_keypoints`` (a quarter pixel towards the higher neighbour) for
    ``(N, K, 2)`` keypoints on ``(N, K, H, W)`` heatmaps, in place."""
    h, w = heatmaps.shape[2:]
    x, y = keypoints[..., 0].astype(int), keypoints[..., 1].astype(int)
    dx = np.where((1 < x) & (x < w - 1) & (0 < y) & (y < h),
                  _gather(heatmaps, x, y, 1, 0) - _gather(heatmaps, x, y, -1, 0), 0.)
    dy = np.where((1 < y) & (y < h - 1) & (0 < x) & (x < w),
                  _gather(heatmaps, x, y, 0, 1) - _gather(heatmaps, x, y, 0, -1), 0.)
    keypoints += np.sign(np.stack([dx, dy], -1)).astype(np.float32) * 0.25
    return keypoints


def refine_dark(keypoints: np.ndarray, heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    """mmpose's ``refine_keypoints_dark`` (a Taylor step on the blurred log-heatmap) for
    ``(N, K, 2)`` keypoints on ``(N, K, H, W)`` heatmaps, in place."""
    h, w = heatmaps.shape[2:]
    logs = gaussian_blur(heatmaps, kernel)
    np.maximum(logs, 1e-10, logs)
    np.log(logs, logs)
    x, y = keypoints[..., 0].astype(int), keypoints[..., 1].astype(int)

    def at(dx, dy):
        return _gather(logs, x, y, dx, dy)
    centre = at(0, 0)
    gx = 0.5 * (at(1, 0) - at(-1, 0))
    gy = 0.5 * (at(0, 1) - at(0, -1))
    gxx = 0.25 * (at(2, 0) - 2 * centre + at(-2, 0))
    gxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    gyy = 0.25 * (at(0, 2) - 2 * centre + at(0, -2))
    det = gxx * gyy - gxy**2
    ok = (1 < x) & (x < w - 2) & (1 < y) & (y < h - 2) & (det != 0)
    # the inverse Hessian as np.linalg.inv gives it (double, returned in float32)
    safe = np.where(ok, det, 1.).astype(np.float64)
    inv = (np.stack([gyy, -gxy, -gxy, gxx], -1) / safe[..., None]).astype(np.float32)
    offset = -np.stack([inv[..., 0] * gx + inv[..., 1] * gy,
                        inv[..., 2] * gx + inv[..., 3] * gy], -1)
    keypoints += np.where(ok[..., None], offset, 0).astype(np.float32)
    return keypoints


def decode_msra(codec, heatmaps: np.ndarray):
    """mmpose's ``MSRAHeatmap.decode`` for ``(N, K, H, W)`` heatmaps at once: keypoints
    ``(N, K, 2)`` in input pixels and scores ``(N, K)``."""
    from mmpose.codecs.utils import get_heatmap_maximum
    heatmaps = heatmaps.copy()
    keypoints, scores = get_heatmap_maximum(heatmaps)
    if codec.unbiased:
        keypoints = refine_dark(keypoints, heatmaps, codec.blur_kernel_size)
    else:
        keypoints = refine_shift(keypoints, heatmaps)
    return keypoints * codec.scale_factor, scores
