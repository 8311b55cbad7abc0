"""int8 calibration inputs from the user's own images (folder, video, bbox file) and the errors
when neither they nor the config's training set can be read."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import ROOT

from mmhrnet.apis.sources import InferenceInputError
from mmhrnet.deploy.calibration import calibration_frames, calibration_inputs
from mmhrnet.deploy.task import build_model, load_config

POSE_CFG = osp.join(ROOT, 'configs/pose/td-hm_hrnet-w18-small-v1_1xb16-10e_synthetic-people-'
                    '192x144.py')
SEG_CFG = osp.join(ROOT, 'configs/seg/hrnetv2_w18-small_synthetic-parts-256x256.py')


def _images(folder, num, size=(60, 80)):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(num):
        cv2.imwrite(str(folder / f'{i:04d}.png'),
                    rng.integers(0, 255, (*size, 3), dtype=np.uint8))
    return str(folder)


@pytest.fixture(scope='module')
def pose():
    cfg = load_config(POSE_CFG)
    return cfg, build_model(cfg).data_preprocessor


def test_pose_whole_images_give_crops_of_the_test_size(pose, tmp_path):
    cfg, preprocessor = pose
    inputs = calibration_inputs(cfg, preprocessor, 3, images=_images(tmp_path / 'imgs', 5))
    assert [x.shape for x in inputs] == [(1, 3, 192, 144)] * 3
    assert all(x.dtype == np.float32 for x in inputs)
    assert not np.allclose(inputs[0], inputs[1])  # different images, not one repeated


def test_pose_crops_from_a_bbox_file(pose, tmp_path):
    cfg, preprocessor = pose
    folder = _images(tmp_path / 'imgs', 2)
    boxes = [dict(image_id=0, category_id=1, bbox=[5, 5, 20, 40], score=0.9),
             dict(image_id=0, category_id=1, bbox=[30, 10, 20, 40], score=0.8),
             dict(image_id=1, category_id=1, bbox=[0, 0, 30, 50], score=0.9)]
    bbox_file = tmp_path / 'boxes.json'
    bbox_file.write_text(json.dumps(boxes))
    inputs = calibration_inputs(cfg, preprocessor, 8, images=folder, bbox_file=str(bbox_file))
    assert len(inputs) == 3 and inputs[0].shape == (1, 3, 192, 144)
    # a file whose ids match none of the images: no crop, one error naming the folder
    bbox_file.write_text(json.dumps([dict(boxes[0], image_id=7)]))
    with pytest.raises(InferenceInputError, match='no person box'):
        calibration_inputs(cfg, preprocessor, 8, images=folder, bbox_file=str(bbox_file))


def test_seg_whole_images_resized_to_a_static_shape(tmp_path):
    cfg = load_config(SEG_CFG)
    preprocessor = build_model(cfg).data_preprocessor
    folder = _images(tmp_path / 'imgs', 2)
    assert [x.shape for x in calibration_inputs(cfg, preprocessor, 4, images=folder)] == \
        [(1, 3, 60, 80)] * 2
    assert calibration_inputs(cfg, preprocessor, 1, (64, 64), images=folder)[0].shape == \
        (1, 3, 64, 64)


def test_video_frames_evenly_spaced(tmp_path):
    path = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10, (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), 20 * i, dtype=np.uint8))
    writer.release()
    assert [f.index for f in calibration_frames(path, 4)] == [0, 3, 6, 9]


@pytest.mark.parametrize('make', ['missing', 'empty'])
def test_unreadable_images_one_error_naming_them(pose, tmp_path, make):
    cfg, preprocessor = pose
    folder = tmp_path / 'calib'
    if make == 'empty':
        folder.mkdir()
    with pytest.raises(InferenceInputError, match=f'calib-images.*{folder}'):
        calibration_inputs(cfg, preprocessor, 4, images=str(folder))


def test_missing_training_set_names_it_and_the_images_option(pose, tmp_path):
    cfg, preprocessor = pose
    cfg = load_config(POSE_CFG, {'train_dataloader.dataset.data_root': str(tmp_path) + '/'})
    with pytest.raises(FileNotFoundError) as info:
        calibration_inputs(cfg, preprocessor, 4)
    assert str(tmp_path) in str(info.value) and '--calib-images' in str(info.value)
